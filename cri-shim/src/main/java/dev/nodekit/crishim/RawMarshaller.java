package dev.nodekit.crishim;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;

/**
 * Messages as the bytes they travel as: nothing is parsed, unknown fields and future RPCs survive.
 * grpc-java's {@code GrpcProxy} pattern. The stream handed to the transport announces its length
 * and drains in one write, so the framer sizes its buffer once.
 */
final class RawMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    static final RawMarshaller INSTANCE = new RawMarshaller();

    private RawMarshaller() {
    }

    @Override
    public InputStream stream(byte[] value) {
        return new KnownLengthStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
        try {
            if (stream instanceof KnownLength) {
                // grpc's message streams know their size: one exact allocation instead of growing chunks.
                byte[] out = stream.readNBytes(stream.available());
                byte[] rest = stream.readAllBytes();
                if (rest.length == 0) {
                    return out;
                }
                byte[] all = java.util.Arrays.copyOf(out, out.length + rest.length);
                System.arraycopy(rest, 0, all, out.length, rest.length);
                return all;
            }
            return stream.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading a message from the transport failed", e);
        }
    }

    /** A byte array as a stream of known length that drains into the framer in one write. */
    static final class KnownLengthStream extends ByteArrayInputStream implements KnownLength, Drainable {
        KnownLengthStream(byte[] buf) {
            super(buf);
        }

        @Override
        public int drainTo(OutputStream target) throws IOException {
            int n = count - pos;
            target.write(buf, pos, n);
            pos = count;
            return n;
        }
    }
}
