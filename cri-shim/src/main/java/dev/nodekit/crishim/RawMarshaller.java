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
                return readKnownLength(stream);
            }
            return stream.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading a message from the transport failed", e);
        }
    }

    /**
     * grpc's message streams know their size: one exact array, filled in place, and a one-byte read
     * to confirm the end. ({@code readNBytes}/{@code readAllBytes} allocate an 8 KiB scratch buffer
     * per call even for an empty rest: for a forwarded Version that was half of what a call
     * allocated.) A stream that turns out longer than it announced is still read whole.
     */
    private static byte[] readKnownLength(InputStream stream) throws IOException {
        int n = stream.available();
        byte[] out = new byte[n];
        int off = 0;
        while (off < n) {
            int r = stream.read(out, off, n - off);
            if (r < 0) {
                return java.util.Arrays.copyOf(out, off);
            }
            off += r;
        }
        int next = stream.read();
        if (next < 0) {
            return out;
        }
        byte[] rest = stream.readAllBytes();
        byte[] all = java.util.Arrays.copyOf(out, n + 1 + rest.length);
        all[n] = (byte) next;
        System.arraycopy(rest, 0, all, n + 1, rest.length);
        return all;
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
