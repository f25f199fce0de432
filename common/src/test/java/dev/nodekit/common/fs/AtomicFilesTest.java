package dev.nodekit.common.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void writesAndReplacesWithOwnerOnlyModeByDefault() throws Exception {
        Path f = dir.resolve("state.json");
        AtomicFiles.writeString(f, "one");
        assertThat(Files.readString(f)).isEqualTo("one");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
        AtomicFiles.write(f, "two".getBytes());
        assertThat(Files.readString(f)).isEqualTo("two");
        assertThat(leftovers()).containsExactly("state.json");
    }

    @Test
    void modeIsExactlyWhatWasAskedWhateverTheUmask() throws Exception {
        Path f = dir.resolve("conf");
        AtomicFiles.write(f, new byte[] {1}, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-rw-rw-");
        AtomicFiles.write(f, new byte[] {2}, AtomicFiles.WORLD_READABLE);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-r--r--");
    }

    @Test
    void emptyContentIsAllowed() throws Exception {
        Path f = dir.resolve("empty");
        AtomicFiles.write(f, new byte[0]);
        assertThat(Files.size(f)).isZero();
    }

    @Test
    void symlinkAtTheTargetIsReplacedNotFollowed() throws Exception {
        Path real = Files.writeString(dir.resolve("real"), "untouched");
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        AtomicFiles.writeString(link, "new");
        assertThat(Files.isSymbolicLink(link)).isFalse();
        assertThat(Files.readString(link)).isEqualTo("new");
        assertThat(Files.readString(real)).isEqualTo("untouched");
    }

    @Test
    void failedReplaceLeavesTheOldContentAndNoTemporary() throws Exception {
        Path target = Files.createDirectories(dir.resolve("busy"));
        Files.writeString(target.resolve("child"), "x");
        assertThatThrownBy(() -> AtomicFiles.writeString(target, "data")).isInstanceOf(IOException.class);
        assertThat(Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)).isTrue();
        assertThat(leftovers()).containsExactly("busy");
    }

    @Test
    void missingDirectoryFails() {
        assertThatThrownBy(() -> AtomicFiles.writeString(dir.resolve("no/such/file"), "x"))
                .isInstanceOf(IOException.class);
    }

    @Test
    @Timeout(60)
    void concurrentReadersSeeOldOrNewContentNeverAMix() throws Exception {
        Path f = dir.resolve("big");
        byte[] a = new byte[512 * 1024];
        byte[] b = new byte[256 * 1024];
        Arrays.fill(a, (byte) 'a');
        Arrays.fill(b, (byte) 'b');
        AtomicFiles.write(f, a);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> bad = new AtomicReference<>();
        AtomicInteger reads = new AtomicInteger();
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Thread t = new Thread(() -> {
                while (!stop.get() && bad.get() == null) {
                    try {
                        byte[] got = Files.readAllBytes(f);
                        reads.incrementAndGet();
                        if (!Arrays.equals(got, a) && !Arrays.equals(got, b)) {
                            bad.set("read " + got.length + " bytes that are neither version");
                        }
                    } catch (IOException e) {
                        bad.set(e.toString());
                    }
                }
            });
            t.start();
            readers.add(t);
        }
        for (int i = 0; i < 60; i++) {
            AtomicFiles.write(f, i % 2 == 0 ? b : a);
        }
        stop.set(true);
        for (Thread t : readers) {
            t.join();
        }
        assertThat(bad.get()).isNull();
        assertThat(reads.get()).isPositive();
        assertThat(leftovers()).containsExactly("big");
    }

    @Test
    void fsyncDirectoryWorksOnADirectory() throws Exception {
        AtomicFiles.fsyncDirectory(dir);
    }

    private List<String> leftovers() throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
