package dev.nodekit.conformance.csi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** The mounts this process sees, from {@code /proc/self/mountinfo}: where the plugin mounted what, read-only or not. */
final class MountTable {
    static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    /** One line of mountinfo: the mount point, its per-mount options ({@code ro}/{@code rw}...), fs type and source. */
    record Entry(Path mountPoint, Set<String> options, String fsType, String source, String root) {
        boolean readOnly() {
            return options.contains("ro");
        }
    }

    private final List<Entry> entries;

    private MountTable(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    /** The mount table now. */
    static MountTable read() throws IOException {
        return parse(Files.readAllLines(MOUNTINFO));
    }

    /**
     * Parses mountinfo lines: {@code id parent maj:min root mountpoint options [optional...] - fstype source superoptions};
     * octal escapes ({@code \040} for a space) in paths are decoded.
     */
    static MountTable parse(List<String> lines) {
        List<Entry> out = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.split(" ");
            int dash = -1;
            for (int i = 6; i < f.length; i++) {
                if (f[i].equals("-")) {
                    dash = i;
                    break;
                }
            }
            if (f.length < 6 || dash < 0 || dash + 2 >= f.length) {
                continue;
            }
            out.add(new Entry(Path.of(unescape(f[4])), Set.of(f[5].split(",")), f[dash + 1], unescape(f[dash + 2]),
                    unescape(f[3])));
        }
        return new MountTable(out);
    }

    /** Every mount whose mount point is exactly {@code path} (more than one means stacked mounts). */
    List<Entry> at(Path path) {
        Path p = NodeIo.canonical(path);
        return entries.stream().filter(e -> e.mountPoint().equals(p)).toList();
    }

    /** Every mount at {@code path} or below it. */
    List<Entry> under(Path path) {
        Path p = NodeIo.canonical(path);
        return entries.stream().filter(e -> e.mountPoint().startsWith(p)).toList();
    }

    /** True when something is mounted exactly at {@code path}. */
    boolean isMountPoint(Path path) {
        return !at(path).isEmpty();
    }

    /** The topmost mount at {@code path} (the one a lookup of the path sees), if any. */
    Optional<Entry> top(Path path) {
        List<Entry> at = at(path);
        return at.isEmpty() ? Optional.empty() : Optional.of(at.get(at.size() - 1));
    }

    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1)) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '7') {
                return false;
            }
        }
        return true;
    }
}
