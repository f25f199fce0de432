package dev.nodekit.e2e.containerd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.exec.CommandTimeoutException;
import dev.nodekit.common.exec.ProcessCommandRunner;

/** The host-side operations of the fixture: commands, /proc scans, mounts, cgroups (one line per helper). */
final class Host {
    /** The fixture is the real world itself, so it runs real commands; nothing to inject. */
    private static final CommandRunner RUNNER = new ProcessCommandRunner();

    private Host() {
    }

    /** What a command did. */
    record Result(List<String> argv, int exit, String stdout, String stderr) {
        boolean ok() {
            return exit == 0;
        }

        /** Throws with the command, exit code and stderr unless it exited 0. */
        Result check() throws IOException {
            if (exit != 0) {
                throw new IOException(String.join(" ", argv) + " exited " + exit + ": " + stderr.strip());
            }
            return this;
        }
    }

    /** Runs {@code argv} through the project's runner; a timeout (it was killed) is exit -1. */
    static Result run(Duration timeout, List<String> argv) throws IOException {
        try {
            CommandResult r = RUNNER.run(argv, timeout);
            return new Result(argv, r.exitCode(), r.stdout(), r.stderr());
        } catch (CommandTimeoutException e) {
            return new Result(argv, -1, "", "timed out after " + timeout.toSeconds() + " s");
        } catch (CommandException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    static Result run(String... argv) throws IOException {
        return run(Duration.ofSeconds(60), List.of(argv));
    }

    /** The command line of process {@code pid} with arguments separated by spaces, or empty if it is gone. */
    static String cmdline(long pid) {
        try {
            byte[] b = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            return new String(b, StandardCharsets.UTF_8).replace('\0', ' ').strip();
        } catch (IOException e) {
            return "";
        }
    }

    /** PIDs of every process whose command line satisfies {@code match}. */
    static List<Long> pidsWhere(java.util.function.Predicate<String> match) {
        List<Long> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                long pid = Long.parseLong(name);
                if (match.test(cmdline(pid))) {
                    out.add(pid);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc: " + e.getMessage(), e);
        }
        return out;
    }

    /** Mount points at or below {@code dir}, deepest first (octal escapes of /proc/self/mountinfo decoded). */
    static List<Path> mountsUnder(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (f.length > 4) {
                Path mp = Path.of(unescape(f[4]));
                if (mp.startsWith(dir)) {
                    out.add(mp);
                }
            }
        }
        out.sort(Comparator.comparingInt(Path::getNameCount).reversed().thenComparing(Comparator.reverseOrder()));
        return out;
    }

    static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** The cgroup hierarchies' roots (v1 controllers and the v2 unified tree), without symlinked aliases. */
    static List<Path> cgroupRoots() throws IOException {
        List<Path> out = new ArrayList<>();
        Path base = Path.of("/sys/fs/cgroup");
        if (!Files.isDirectory(base)) {
            return out;
        }
        if (Files.exists(base.resolve("cgroup.controllers"))) {
            out.add(base); // pure cgroup v2
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(base)) {
            for (Path p : ds) {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    out.add(p);
                }
            }
        }
        return out;
    }

    /** rmdir {@code dir} and every directory below it, deepest first (cgroup dirs hold only pseudo-files). */
    static List<String> rmdirTree(Path dir) {
        List<String> problems = new ArrayList<>();
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return problems;
        }
        List<Path> dirs;
        try (Stream<Path> s = Files.walk(dir)) {
            dirs = s.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                    .sorted(Comparator.comparingInt(Path::getNameCount).reversed()).toList();
        } catch (IOException e) {
            problems.add("cannot walk " + dir + ": " + e.getMessage());
            return problems;
        }
        for (Path d : dirs) {
            try {
                Files.delete(d);
            } catch (IOException e) {
                problems.add("cannot remove cgroup " + d + ": " + e);
            }
        }
        return problems;
    }

    /** Deletes a file tree that holds no mount point (checked by the caller); does not follow symlinks. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Removes {@code dir} if it exists and is empty; false otherwise. */
    static boolean rmdirIfEmpty(Path dir) {
        try {
            return Files.deleteIfExists(dir);
        } catch (IOException e) {
            return false;
        }
    }
}
