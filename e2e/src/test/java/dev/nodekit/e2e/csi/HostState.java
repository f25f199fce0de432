package dev.nodekit.e2e.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.ProcessCommandRunner;
import dev.nodekit.common.mount.MountInfo;
import dev.nodekit.common.mount.Mounts;

/** What a test left on the host under its work dir: loop devices backed by its files, mounts. */
final class HostState {
    private HostState() {
    }

    /** Loop devices whose backing file lies under {@code dir} ({@code losetup -a}). */
    static List<String> loopDevicesUnder(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        try {
            String text = new ProcessCommandRunner().run(Command.of("losetup", "-a", "-n", "-O", "NAME,BACK-FILE")
                    .withTimeout(Duration.ofSeconds(20))).checkSuccess().stdout();
            String prefix = dir.toRealPath().toString();
            for (String line : text.lines().toList()) {
                String[] f = line.trim().split("\\s+", 2);
                if (f.length == 2 && f[1].startsWith(prefix)) {
                    out.add(line.trim());
                }
            }
        } catch (CommandException e) {
            throw new IOException(e);
        }
        return out;
    }

    /** Mount points at or under {@code dir}. */
    static List<Path> mountsUnder(Path dir) throws IOException {
        Path real = dir.toRealPath();
        return Mounts.system().list().stream().map(MountInfo::mountPoint).filter(p -> p.startsWith(real)).toList();
    }

    /** Asserts the test left no loop device and no mount under {@code dir}. */
    static void assertClean(Path dir) throws IOException {
        assertThat(mountsUnder(dir)).as("mounts left under %s", dir).isEmpty();
        assertThat(loopDevicesUnder(dir)).as("loop devices left backed by files under %s", dir).isEmpty();
    }

    /**
     * Best-effort cleanup after a failed test, so one failure does not leak into the next run:
     * lazy-unmounts everything under {@code dir} (deepest first) and detaches its loop devices.
     */
    static void forceClean(Path dir) {
        try {
            ProcessCommandRunner r = new ProcessCommandRunner();
            List<Path> ms = new ArrayList<>(mountsUnder(dir));
            ms.sort(Comparator.comparingInt(Path::getNameCount).reversed());
            for (Path m : ms) {
                r.run(Command.of("umount", "-l", "--", m.toString()).withTimeout(Duration.ofSeconds(20)));
            }
            for (String l : loopDevicesUnder(dir)) {
                r.run(Command.of("losetup", "-d", l.split("\\s+")[0]).withTimeout(Duration.ofSeconds(20)));
            }
        } catch (IOException | CommandException | RuntimeException e) {
            System.err.println("cleanup of " + dir + " incomplete: " + e);
        }
    }

    /** Deletes {@code dir} recursively (after {@link #assertClean}: nothing is mounted below it). */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
