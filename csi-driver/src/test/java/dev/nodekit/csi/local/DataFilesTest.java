package dev.nodekit.csi.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DataFilesTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void createsSparseFiles() throws Exception {
        Path f = dir.resolve("a.img");
        assertThat(new DataFiles(true, true).createSparse(f, 1L << 30)).isEqualTo(DataFiles.Method.EMPTY);
        assertThat(Files.size(f)).isEqualTo(1L << 30);
        assertThat(allocatedBytes(f)).isLessThan(MIB);
        assertThatThrownBy(() -> new DataFiles(true, true).createSparse(f, 1)).isInstanceOf(FileAlreadyExistsException.class);
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void copiesDataAndKeepsHoles(boolean reflink) throws Exception {
        Path src = dir.resolve("src.img");
        new DataFiles(true, true).createSparse(src, 256L * MIB);
        byte[] a = pattern('a', 3 * MIB);
        byte[] b = pattern('b', 5000);
        write(src, 10L * MIB, a);
        write(src, 200L * MIB + 123, b);
        write(src, 256L * MIB - 10, pattern('z', 10));
        Path dst = dir.resolve("dst.img");
        DataFiles.Method m = new DataFiles(reflink, true).copy(src, dst, 128L * MIB);
        if (!reflink) {
            assertThat(m).isEqualTo(DataFiles.Method.SPARSE_COPY);
        }
        assertThat(Files.size(dst)).as("never smaller than the source").isEqualTo(256L * MIB);
        assertThat(read(dst, 10L * MIB, a.length)).isEqualTo(a);
        assertThat(read(dst, 200L * MIB + 123, b.length)).isEqualTo(b);
        assertThat(read(dst, 256L * MIB - 10, 10)).isEqualTo(pattern('z', 10));
        assertThat(read(dst, 0, 4096)).isEqualTo(new byte[4096]);
        assertThat(read(dst, 100L * MIB, 4096)).isEqualTo(new byte[4096]);
        if (m == DataFiles.Method.SPARSE_COPY) {
            // Only the data ranges were written: about 3 MiB + 2 blocks, not 256 MiB.
            assertThat(allocatedBytes(dst)).isBetween(3L * MIB, 8L * MIB);
        }
        assertThat(PosixPermissions.of(dst)).isEqualTo("rw-------");
    }

    @Test
    void growsACopyBeyondItsSource() throws Exception {
        Path src = dir.resolve("src.img");
        new DataFiles(true, true).createSparse(src, 4 * MIB);
        write(src, 0, pattern('q', 4096));
        Path dst = dir.resolve("dst.img");
        new DataFiles(true, true).copy(src, dst, 64L * MIB);
        assertThat(Files.size(dst)).isEqualTo(64L * MIB);
        assertThat(read(dst, 0, 4096)).isEqualTo(pattern('q', 4096));
        assertThat(read(dst, 60L * MIB, 4096)).isEqualTo(new byte[4096]);
        new DataFiles(true, true).grow(dst, 128L * MIB);
        assertThat(Files.size(dst)).isEqualTo(128L * MIB);
        new DataFiles(true, true).grow(dst, 1);
        assertThat(Files.size(dst)).as("grow never shrinks").isEqualTo(128L * MIB);
    }

    @Test
    void copiesAnEmptyOrFullyHoledSource() throws Exception {
        Path src = dir.resolve("src.img");
        new DataFiles(true, true).createSparse(src, 8 * MIB);
        Path dst = dir.resolve("dst.img");
        new DataFiles(false, true).copy(src, dst, 8 * MIB);
        assertThat(Files.size(dst)).isEqualTo(8 * MIB);
        assertThat(allocatedBytes(dst)).isLessThan(64 * 1024);
    }

    @Test
    void reportsAMissingSourceAndAnExistingTarget() throws Exception {
        Path dst = dir.resolve("dst.img");
        assertThatThrownBy(() -> new DataFiles(true, true).copy(dir.resolve("missing"), dst, MIB))
                .isInstanceOf(NoSuchFileException.class);
        assertThat(dst).doesNotExist();
        Path src = Files.write(dir.resolve("src.img"), pattern('x', 100));
        Files.writeString(dst, "keep");
        assertThatThrownBy(() -> new DataFiles(true, true).copy(src, dst, MIB)).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(dst)).isEqualTo("keep");
    }

    /** Bytes the filesystem allocated for {@code f} ({@code stat %b * %B}). */
    static long allocatedBytes(Path f) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(List.of("stat", "--format=%b %B", f.toString())).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        String[] parts = out.split(" ");
        return Long.parseLong(parts[0]) * Long.parseLong(parts[1]);
    }

    static byte[] pattern(char c, int n) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) c);
        for (int i = 0; i < n; i += 4096) {
            b[i] = (byte) (i / 4096);
        }
        return b;
    }

    static void write(Path f, long offset, byte[] data) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.seek(offset);
            raf.write(data);
        }
    }

    static byte[] read(Path f, long offset, int n) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
            byte[] b = new byte[n];
            raf.seek(offset);
            raf.readFully(b);
            return b;
        }
    }

    /** The permission string of a file. */
    static final class PosixPermissions {
        private PosixPermissions() {
        }

        static String of(Path f) throws IOException {
            return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f));
        }
    }
}
