package dev.nodekit.crishim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.grpc.KnownLength;

class RawMarshallerTest {
    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    /** A stream that says how long it is (as grpc's are), delivering at most {@code chunk} bytes per read. */
    private static final class Known extends FilterInputStream implements KnownLength {
        private final int announced;
        private final int chunk;

        Known(byte[] data, int announced, int chunk) {
            super(new ByteArrayInputStream(data));
            this.announced = announced;
            this.chunk = chunk;
        }

        @Override
        public int available() throws IOException {
            return Math.min(announced, super.available());
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return super.read(b, off, Math.min(len, chunk));
        }
    }

    @Test
    void knownLengthStreamsAreReadWholeInPiecesOrNot() {
        for (int n : new int[] {0, 1, 7, 8192, 80_780}) {
            byte[] data = bytes(n);
            assertThat(RawMarshaller.INSTANCE.parse(new Known(data, n, Integer.MAX_VALUE))).isEqualTo(data);
            assertThat(RawMarshaller.INSTANCE.parse(new Known(data, n, 1000))).isEqualTo(data);
        }
    }

    @Test
    void aStreamLongerThanItAnnouncedIsStillReadWhole() {
        byte[] data = bytes(20_000);
        assertThat(RawMarshaller.INSTANCE.parse(new Known(data, 100, 4096))).isEqualTo(data);
        assertThat(RawMarshaller.INSTANCE.parse(new Known(data, 0, 4096))).isEqualTo(data);
    }

    @Test
    void streamsOfUnknownLengthAreReadWhole() {
        byte[] data = bytes(30_000);
        InputStream plain = new FilterInputStream(new ByteArrayInputStream(data)) {
        };
        assertThat(RawMarshaller.INSTANCE.parse(plain)).isEqualTo(data);
    }

    @Test
    void whatIsStreamedDrainsInOneWriteAndRoundTrips() throws IOException {
        byte[] data = bytes(5000);
        InputStream s = RawMarshaller.INSTANCE.stream(data);
        assertThat(s).isInstanceOf(KnownLength.class);
        assertThat(s.available()).isEqualTo(data.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(((io.grpc.Drainable) s).drainTo(out)).isEqualTo(data.length);
        assertThat(out.toByteArray()).isEqualTo(data);
        assertThat(RawMarshaller.INSTANCE.parse(RawMarshaller.INSTANCE.stream(data))).isEqualTo(data);
    }
}
