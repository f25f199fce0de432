package dev.nodekit.common.mount;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One line of {@code /proc/PID/mountinfo} (proc(5)), with octal escapes ({@code \040} for a
 * space...) decoded:
 *
 * <pre>
 * 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 * (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
 * </pre>
 *
 * @param mountId unique id of the mount (reused after unmount)
 * @param parentId id of the parent mount (itself for the root of the mount tree)
 * @param major major device number of the filesystem ({@code st_dev})
 * @param minor minor device number
 * @param root the directory of the filesystem that is mounted here: {@code /} for a whole
 *        filesystem, a sub-path for a bind mount of a directory or file
 * @param mountPoint where it is mounted, relative to the reading process's root
 * @param options per-mount options ({@code rw}, {@code nosuid}, {@code relatime}...)
 * @param optionalFields propagation tags ({@code shared:N}, {@code master:N}, {@code propagate_from:N}, {@code unbindable})
 * @param fsType filesystem type, {@code type.subtype} for fuse ({@code fuse.rbd-fuse})
 * @param source what was mounted: a device path, a server path, or a free string ({@code tmpfs}, {@code none})
 * @param superOptions per-superblock options
 */
public record MountInfo(int mountId, int parentId, int major, int minor, String root, Path mountPoint,
        List<String> options, List<String> optionalFields, String fsType, String source, List<String> superOptions) {

    /** Validates and copies. */
    public MountInfo {
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(mountPoint, "mountPoint");
        options = List.copyOf(options);
        optionalFields = List.copyOf(optionalFields);
        Objects.requireNonNull(fsType, "fsType");
        Objects.requireNonNull(source, "source");
        superOptions = List.copyOf(superOptions);
    }

    /** {@code major:minor}, as in the mountinfo line and {@code lsblk}. */
    public String majorMinor() {
        return major + ":" + minor;
    }

    /** True when mounted read-only (the per-mount {@code ro} option; a read-only bind of a rw filesystem counts). */
    public boolean readOnly() {
        return options.contains("ro");
    }

    /** The value of a per-mount or superblock option {@code name=value}, or "" for a flag {@code name}. */
    public Optional<String> option(String name) {
        for (List<String> opts : List.of(options, superOptions)) {
            for (String o : opts) {
                if (o.equals(name)) {
                    return Optional.of("");
                }
                if (o.startsWith(name + "=")) {
                    return Optional.of(o.substring(name.length() + 1));
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Parses one mountinfo line.
     *
     * @throws IllegalArgumentException when the line does not have the proc(5) shape
     */
    public static MountInfo parse(String line) {
        String[] f = line.split(" ", -1);
        int sep = -1;
        for (int i = 6; i < f.length; i++) {
            if (f[i].equals("-")) {
                sep = i;
                break;
            }
        }
        if (sep < 0 || f.length != sep + 4) {
            throw new IllegalArgumentException("not a mountinfo line (expected 6+ fields, '-', 3 fields): " + line);
        }
        int colon = f[2].indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("bad major:minor '" + f[2] + "' in mountinfo line: " + line);
        }
        try {
            return new MountInfo(Integer.parseInt(f[0]), Integer.parseInt(f[1]),
                    Integer.parseInt(f[2].substring(0, colon)), Integer.parseInt(f[2].substring(colon + 1)),
                    unescape(f[3]), Path.of(unescape(f[4])), splitOptions(f[5]),
                    List.of(Arrays.copyOfRange(f, 6, sep)), unescape(f[sep + 1]), unescape(f[sep + 2]),
                    splitOptions(f[sep + 3]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad number in mountinfo line: " + line, e);
        }
    }

    /**
     * Parses a whole mountinfo file; blank lines are ignored.
     *
     * @throws IllegalArgumentException naming the 1-based line number of the first malformed line
     */
    public static List<MountInfo> parseAll(String text) {
        List<MountInfo> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            try {
                out.add(parse(lines[i]));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return List.copyOf(out);
    }

    private static List<String> splitOptions(String s) {
        return s.isEmpty() ? List.of() : List.of(unescape(s).split(","));
    }

    /**
     * Decodes the kernel's {@code \ooo} escapes (space, tab, newline and backslash in paths). The
     * bytes are decoded as UTF-8: the kernel prints other bytes of a path as they are.
     */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        byte[] raw = s.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length);
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == '\\' && i + 3 < raw.length && isOctal(raw[i + 1]) && isOctal(raw[i + 2])
                    && isOctal(raw[i + 3])) {
                out.write(((raw[i + 1] - '0') << 6) | ((raw[i + 2] - '0') << 3) | (raw[i + 3] - '0'));
                i += 3;
            } else {
                out.write(raw[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static boolean isOctal(byte b) {
        return b >= '0' && b <= '7';
    }
}
