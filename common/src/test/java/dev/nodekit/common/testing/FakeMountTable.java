package dev.nodekit.common.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.mount.MountInfo;
import dev.nodekit.common.mount.Mounts;

/**
 * An in-memory mount table for unit tests of code that mounts: {@link #mounts()} reads it, and
 * {@link #scriptOn(RecordingCommandRunner)} makes a recording runner answer the {@code mount} and
 * {@code umount} command lines {@link dev.nodekit.common.mount.Mounter} runs by changing the table
 * as the kernel would. Paths are taken as given (the tests' temp directories), so the table can
 * describe mounts that do not exist on the host.
 */
public final class FakeMountTable {
    /** A root filesystem line: ext4 on /dev/vda, device 254:0. */
    public static final String ROOT_LINE = "1 0 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw";

    private final List<MountInfo> entries = new ArrayList<>();
    private int nextId = 100;
    private int nextMinor = 100;

    /** A table holding the lines of {@code mountinfo}. */
    public FakeMountTable(String mountinfo) {
        entries.addAll(MountInfo.parseAll(mountinfo));
    }

    /** A table holding only {@link #ROOT_LINE}. */
    public static FakeMountTable withRoot() {
        return new FakeMountTable(ROOT_LINE);
    }

    /** The table as mountinfo text (escaping spaces, tabs, newlines and backslashes like the kernel). */
    public synchronized String text() {
        StringBuilder sb = new StringBuilder();
        for (MountInfo m : entries) {
            sb.append(m.mountId()).append(' ').append(m.parentId()).append(' ').append(m.majorMinor()).append(' ')
                    .append(escape(m.root())).append(' ').append(escape(m.mountPoint().toString())).append(' ')
                    .append(String.join(",", m.options()));
            for (String f : m.optionalFields()) {
                sb.append(' ').append(f);
            }
            sb.append(" - ").append(escape(m.fsType())).append(' ').append(escape(m.source())).append(' ')
                    .append(String.join(",", m.superOptions())).append('\n');
        }
        return sb.toString();
    }

    /** A {@link Mounts} reading this table. */
    public Mounts mounts() {
        return Mounts.fromText(this::text);
    }

    /** The current entries. */
    public synchronized List<MountInfo> entries() {
        return List.copyOf(entries);
    }

    /** Adds a mount line by hand. */
    public synchronized void add(String mountinfoLine) {
        entries.add(MountInfo.parse(mountinfoLine));
    }

    /**
     * Scripts {@code runner} to answer {@code mount --bind -- SRC DST}, {@code mount -o remount,bind,ro -- DST},
     * {@code mount -t TYPE [-o OPTS] -- SRC DST} and {@code umount [-l] -- DST} by changing this table
     * ({@code umount} of something not mounted exits 32 like util-linux).
     */
    public void scriptOn(RecordingCommandRunner runner) {
        runner.onPrefix("mount").thenAnswer(this::mount);
        runner.onPrefix("umount").thenAnswer(this::umount);
    }

    private synchronized CommandResult mount(Command c) {
        List<String> a = c.argv();
        int dd = a.indexOf("--");
        if (dd < 0) {
            return fail(c, "fake mount: expected '--' in " + a);
        }
        List<String> opts = a.subList(1, dd);
        List<String> paths = a.subList(dd + 1, a.size());
        if (opts.equals(List.of("--bind")) && paths.size() == 2) {
            Path src = Path.of(paths.get(0));
            Path dst = real(Path.of(paths.get(1)));
            Mounts.FilesystemLocation loc;
            MountInfo containing;
            try {
                loc = mounts().locate(src).orElseThrow();
                containing = mounts().findContaining(src).orElseThrow();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            entries.add(new MountInfo(nextId++, parentOf(dst), loc.major(), loc.minor(), loc.root(), dst,
                    List.of("rw", "relatime"), List.of(), containing.fsType(), containing.source(),
                    containing.superOptions()));
            return ok(c);
        }
        if (opts.equals(List.of("-o", "remount,bind,ro")) && paths.size() == 1) {
            int i = topIndex(Path.of(paths.get(0)));
            if (i < 0) {
                return fail(c, "mount: " + paths.get(0) + ": not mount point or bad option.");
            }
            MountInfo m = entries.get(i);
            List<String> o = new ArrayList<>(m.options());
            o.remove("rw");
            o.add(0, "ro");
            entries.set(i, new MountInfo(m.mountId(), m.parentId(), m.major(), m.minor(), m.root(), m.mountPoint(),
                    o, m.optionalFields(), m.fsType(), m.source(), m.superOptions()));
            return ok(c);
        }
        if (opts.size() >= 2 && opts.get(0).equals("-t") && paths.size() == 2) {
            List<String> o = new ArrayList<>();
            if (opts.size() == 4 && opts.get(2).equals("-o")) {
                o.addAll(List.of(opts.get(3).split(",")));
            }
            List<String> perMount = new ArrayList<>(List.of(o.contains("ro") ? "ro" : "rw", "relatime"));
            Path dst = real(Path.of(paths.get(1)));
            entries.add(new MountInfo(nextId++, parentOf(dst), 0, nextMinor++, "/", dst, perMount, List.of(),
                    opts.get(1), paths.get(0), o.isEmpty() ? List.of("rw") : o));
            return ok(c);
        }
        return fail(c, "fake mount: unsupported command line " + a);
    }

    private synchronized CommandResult umount(Command c) {
        List<String> a = c.argv();
        String target = a.get(a.size() - 1);
        int i = topIndex(Path.of(target));
        if (i < 0) {
            return new CommandResult(a, 32, "", "umount: " + target + ": not mounted.\n", Duration.ofMillis(1));
        }
        entries.remove(i);
        return ok(c);
    }

    private int parentOf(Path dst) {
        try {
            return mounts().findContaining(dst).map(MountInfo::mountId).orElse(1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private int topIndex(Path point) {
        try {
            return mounts().findByMountPoint(point).map(entries::indexOf).orElse(-1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Like the kernel: the mount point is recorded with symlinks and dot segments resolved. */
    private static Path real(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }

    private static CommandResult ok(Command c) {
        return new CommandResult(c.argv(), 0, "", "", Duration.ofMillis(1));
    }

    private static CommandResult fail(Command c, String stderr) {
        return new CommandResult(c.argv(), 1, "", stderr, Duration.ofMillis(1));
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case ' ' -> sb.append("\\040");
                case '\t' -> sb.append("\\011");
                case '\n' -> sb.append("\\012");
                case '\\' -> sb.append("\\134");
                default -> sb.append(ch);
            }
        }
        return sb.toString();
    }
}
