package dev.nodekit.csi.rbd;

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

/**
 * What an RBD test left on the host under its work dir: rbd-fuse daemons (found by their
 * mountpoint on the command line), fuse mounts, loop devices on their image files; and the net that
 * removes them after a failure (by pid and device, never by name).
 */
final class RbdHost {
    private RbdHost() {
    }

    /** rbd-fuse processes whose command line names a path under {@code dir}. */
    static List<Long> fuseDaemonsUnder(Path dir) {
        List<Long> out = new ArrayList<>();
        String prefix = dir.toAbsolutePath().toString();
        ProcessHandle.allProcesses().forEach(p -> {
            List<String> argv = new Procs(Path.of("/proc")).cmdline(p.pid());
            if (!argv.isEmpty() && argv.get(0).endsWith("rbd-fuse") && argv.stream().anyMatch(a -> a.startsWith(prefix))) {
                out.add(p.pid());
            }
        });
        return out;
    }

    static List<Path> mountsUnder(Path dir) throws IOException {
        Path real = dir.toAbsolutePath();
        return Mounts.system().list().stream().map(MountInfo::mountPoint).filter(p -> p.startsWith(real)).toList();
    }

    static List<String> loopsUnder(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        try {
            String text = new ProcessCommandRunner().run(Command.of("losetup", "-a", "-n", "-O", "NAME,BACK-FILE")
                    .withTimeout(Duration.ofSeconds(20))).checkSuccess().stdout();
            for (String line : text.lines().toList()) {
                String[] f = line.trim().split("\\s+", 2);
                if (f.length == 2 && f[1].startsWith(dir.toAbsolutePath().toString())) {
                    out.add(f[0]);
                }
            }
        } catch (CommandException e) {
            throw new IOException(e);
        }
        return out;
    }

    /** Fails when daemons, mounts or loop devices are left under {@code dir}; removes them either way. */
    static void assertNothingLeft(Path dir) throws IOException {
        List<Long> daemons = fuseDaemonsUnder(dir);
        List<Path> mounts = mountsUnder(dir);
        List<String> loops = loopsUnder(dir);
        forceClean(dir);
        assertThat(daemons).as("rbd-fuse daemons left under %s", dir).isEmpty();
        assertThat(mounts).as("mounts left under %s", dir).isEmpty();
        assertThat(loops).as("loop devices left under %s", dir).isEmpty();
    }

    /** Removes what a failed test left: unmounts (deepest first), loop devices, then daemons by pid. */
    static void forceClean(Path dir) {
        ProcessCommandRunner r = new ProcessCommandRunner();
        try {
            List<Path> ms = new ArrayList<>(mountsUnder(dir));
            ms.sort(Comparator.comparingInt(Path::getNameCount).reversed());
            for (String l : loopsUnder(dir)) {
                r.run(Command.of("losetup", "-d", l).withTimeout(Duration.ofSeconds(20)));
            }
            for (Path m : ms) {
                r.run(Command.of("umount", "-l", "--", m.toString()).withTimeout(Duration.ofSeconds(20)));
            }
            for (long pid : fuseDaemonsUnder(dir)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        } catch (IOException | CommandException | RuntimeException e) {
            System.err.println("cleanup of " + dir + " incomplete: " + e);
        }
    }

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
