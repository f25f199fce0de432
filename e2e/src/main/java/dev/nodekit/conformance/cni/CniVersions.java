package dev.nodekit.conformance.cni;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The CNI spec versions the suite knows how to judge, their order, and the token each one has in
 * check ids ({@code 1.0.0} becomes {@code v100}, so the ids stay dotted lower-case words:
 * {@code cni.v100.add.result-shape}).
 */
public final class CniVersions {
    /** Every version the suite has checks for, oldest first. 0.1.0/0.2.0 (the ip4/ip6 result) are not judged. */
    public static final List<String> KNOWN = List.of("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0");

    private static final Pattern SEMVER = Pattern.compile("(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)");

    private CniVersions() {
    }

    /** True for {@code MAJOR.MINOR.PATCH} with decimal numbers and no leading zeros. */
    public static boolean isVersion(String v) {
        return v != null && SEMVER.matcher(v).matches();
    }

    /** Orders two {@code MAJOR.MINOR.PATCH} strings numerically. */
    public static int compare(String a, String b) {
        int[] x = parts(a);
        int[] y = parts(b);
        for (int i = 0; i < 3; i++) {
            if (x[i] != y[i]) {
                return Integer.compare(x[i], y[i]);
            }
        }
        return 0;
    }

    /** True when {@code v} is {@code min} or later. */
    public static boolean atLeast(String v, String min) {
        return compare(v, min) >= 0;
    }

    /** The id token of a version: {@code 0.3.1} gives {@code v031}. */
    public static String token(String v) {
        int[] p = parts(v);
        return "v" + p[0] + p[1] + p[2];
    }

    /**
     * Parses a {@code --versions} list ({@code 0.4.0,1.0.0}): every entry must be a known version;
     * the result is sorted oldest first without repeats.
     */
    public static List<String> parseList(String list) {
        List<String> out = new ArrayList<>();
        for (String s : list.split(",")) {
            String v = s.strip();
            if (v.isEmpty()) {
                continue;
            }
            if (!KNOWN.contains(v)) {
                throw new IllegalArgumentException("--versions: '" + v + "' is not one of " + String.join(", ", KNOWN));
            }
            if (!out.contains(v)) {
                out.add(v);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("--versions: no version given");
        }
        return sorted(out);
    }

    /** The known versions among {@code claimed}, oldest first. */
    public static List<String> knownAmong(Collection<String> claimed) {
        return KNOWN.stream().filter(claimed::contains).toList();
    }

    static List<String> sorted(Collection<String> versions) {
        return versions.stream().sorted(CniVersions::compare).toList();
    }

    private static int[] parts(String v) {
        if (!isVersion(v)) {
            throw new IllegalArgumentException("'" + v + "' is not a MAJOR.MINOR.PATCH version");
        }
        String[] s = v.split("\\.");
        return new int[] {Integer.parseInt(s[0]), Integer.parseInt(s[1]), Integer.parseInt(s[2])};
    }
}
