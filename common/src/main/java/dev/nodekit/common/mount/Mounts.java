package dev.nodekit.common.mount;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Questions about the mount table, answered from mountinfo (never from {@code stat} device
 * numbers, which cannot see a bind mount within one filesystem). Each call reads the table afresh:
 * mounts change under us.
 *
 * <p>Paths asked about are made absolute and, when they exist, resolved with
 * {@link Path#toRealPath} (symlinks, {@code ..}) the way the kernel resolved them when it mounted;
 * a missing path is only normalized. Resolving a path under a dead network mount can block in the
 * kernel, as any {@code stat} would.
 *
 * <p>Where mounts are stacked on one mount point, the top one (the one no other mount at that point
 * is mounted on) is the one that is visible and the one returned.
 */
public final class Mounts {

    /** Where the kernel publishes the calling process's mount table. */
    public static final Path PROC_SELF_MOUNTINFO = Path.of("/proc/self/mountinfo");

    /** Supplies mountinfo text; injectable so tests use fixtures. */
    @FunctionalInterface
    public interface Source {
        /** The current mountinfo text. */
        String read() throws IOException;
    }

    private final Source source;
    private final String sourceName;

    /** Reads the table with {@code source}; {@code sourceName} names it in errors. */
    public Mounts(Source source, String sourceName) {
        this.source = Objects.requireNonNull(source, "source");
        this.sourceName = Objects.requireNonNull(sourceName, "sourceName");
    }

    /** The mount table of this process, from {@code /proc/self/mountinfo}. */
    public static Mounts system() {
        return fromFile(PROC_SELF_MOUNTINFO);
    }

    /** The mount table in {@code file}, read at each call (a fixture, or {@code /proc/PID/mountinfo} of another process). */
    public static Mounts fromFile(Path file) {
        return new Mounts(() -> Files.readString(file), file.toString());
    }

    /** The mount table that {@code text} returns at each call (for tests that mutate it). */
    public static Mounts fromText(Supplier<String> text) {
        return new Mounts(text::get, "mountinfo");
    }

    /** Every mount, in the kernel's order. */
    public List<MountInfo> list() throws IOException {
        String text = source.read();
        try {
            return MountInfo.parseAll(text);
        } catch (IllegalArgumentException e) {
            throw new IOException(sourceName + ": " + e.getMessage(), e);
        }
    }

    /** True when something is mounted exactly at {@code path} (a directory or, for a bind mount, a file). */
    public boolean isMountPoint(Path path) throws IOException {
        return findByMountPoint(path).isPresent();
    }

    /** The visible (top) mount at {@code path}, if something is mounted exactly there. */
    public Optional<MountInfo> findByMountPoint(Path path) throws IOException {
        return top(list(), resolve(path));
    }

    /** Every mount whose source is {@code source}, or, for an existing path such as a by-uuid link, its real path. */
    public List<MountInfo> findBySource(String source) throws IOException {
        Set<String> names = new HashSet<>();
        names.add(source);
        if (source.startsWith("/")) {
            names.add(resolve(Path.of(source)).toString());
        }
        List<MountInfo> out = new ArrayList<>();
        for (MountInfo m : list()) {
            if (names.contains(m.source())) {
                out.add(m);
            }
        }
        return List.copyOf(out);
    }

    /** The visible mount that {@code path} lives on: the top mount at the longest mount point that is a prefix of it. */
    public Optional<MountInfo> findContaining(Path path) throws IOException {
        return containing(list(), resolve(path));
    }

    private static Optional<MountInfo> containing(List<MountInfo> all, Path resolved) {
        for (Path p = resolved; p != null; p = p.getParent()) {
            Optional<MountInfo> m = top(all, p);
            if (m.isPresent()) {
                return m;
            }
        }
        return Optional.empty();
    }

    /**
     * Where {@code path} lives, as a bind mount of it would show in mountinfo: the device of the
     * filesystem and the path inside that filesystem. Two mounts show the same content when these
     * are equal, whatever their mount points are.
     */
    public Optional<FilesystemLocation> locate(Path path) throws IOException {
        Path real = resolve(path);
        Optional<MountInfo> containing = containing(list(), real);
        if (containing.isEmpty()) {
            return Optional.empty();
        }
        MountInfo m = containing.get();
        Path rel = m.mountPoint().relativize(real);
        String root = Path.of(m.root()).resolve(rel).normalize().toString();
        return Optional.of(new FilesystemLocation(m.major(), m.minor(), root));
    }

    /** The device and in-filesystem path that a mount shows, see {@link #locate(Path)}. */
    public record FilesystemLocation(int major, int minor, String root) {
        /** The location a mount shows at its mount point. */
        public static FilesystemLocation of(MountInfo m) {
            return new FilesystemLocation(m.major(), m.minor(), m.root());
        }

        @Override
        public String toString() {
            return major + ":" + minor + ":" + root;
        }
    }

    /** {@code path} made absolute and canonical as far as it exists. */
    static Path resolve(Path path) {
        Path abs = path.toAbsolutePath();
        try {
            return abs.toRealPath();
        } catch (IOException e) {
            return abs.normalize();
        }
    }

    /** Among the mounts at exactly {@code point}, the one no other mount at {@code point} sits on. */
    static Optional<MountInfo> top(List<MountInfo> all, Path point) {
        List<MountInfo> here = new ArrayList<>();
        for (MountInfo m : all) {
            if (m.mountPoint().equals(point)) {
                here.add(m);
            }
        }
        if (here.size() <= 1) {
            return here.stream().findFirst();
        }
        Set<Integer> covered = new HashSet<>();
        for (MountInfo m : here) {
            covered.add(m.parentId());
        }
        for (int i = here.size() - 1; i >= 0; i--) {
            if (!covered.contains(here.get(i).mountId())) {
                return Optional.of(here.get(i));
            }
        }
        return Optional.of(here.get(here.size() - 1));
    }
}
