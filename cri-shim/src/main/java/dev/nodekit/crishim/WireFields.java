package dev.nodekit.crishim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;

/**
 * Reads one top-level string field out of an encoded message without decoding the rest: enough to
 * route StartContainer by its {@code container_id} while the message stays bytes. The last
 * occurrence wins, as protobuf's merge rule says.
 */
final class WireFields {
    private WireFields() {
    }

    /** The value of string field {@code number}, or empty when absent or the bytes are not a message. */
    static Optional<String> string(byte[] message, int number) {
        CodedInputStream in = CodedInputStream.newInstance(message);
        String found = null;
        try {
            while (true) {
                int tag = in.readTag();
                if (tag == 0) {
                    break;
                }
                if (WireFormat.getTagFieldNumber(tag) == number
                        && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    found = new String(in.readByteArray(), StandardCharsets.UTF_8);
                } else if (!in.skipField(tag)) {
                    break;
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.ofNullable(found);
    }
}
