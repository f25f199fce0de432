package dev.nodekit.spec.cni;

import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

/**
 * A CNI spec version, {@code MAJOR.MINOR.PATCH} (JSON: a string such as {@code "1.1.0"}).
 *
 * <p>Ordering is numeric ({@code 0.10.0 > 0.4.0}). {@link #ALL} lists the versions libcni knows
 * ({@code version.All}) and this package can read and write; {@link #isKnown()} tells whether a
 * parsed version is one of them. Parsing is strict: three non-negative decimal parts, nothing else
 * (Go plugins compare version strings exactly, so {@code "1.0"} would be refused by them anyway).
 * A document without {@code cniVersion} is a 0.1.0 document ({@link #DEFAULT}), as in libcni.
 *
 * <p>{@code equals}/{@code hashCode}/{@code toString} are written out rather than left to the record
 * machinery, whose first use bootstraps invokedynamic: this type sits on every CNI call's path.
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record CniVersion(int major, int minor, int patch) implements Comparable<CniVersion>, CniJson {

    public static final CniVersion V0_1_0 = new CniVersion(0, 1, 0);
    public static final CniVersion V0_2_0 = new CniVersion(0, 2, 0);
    public static final CniVersion V0_3_0 = new CniVersion(0, 3, 0);
    public static final CniVersion V0_3_1 = new CniVersion(0, 3, 1);
    public static final CniVersion V0_4_0 = new CniVersion(0, 4, 0);
    public static final CniVersion V1_0_0 = new CniVersion(1, 0, 0);
    public static final CniVersion V1_1_0 = new CniVersion(1, 1, 0);

    /** The newest spec version this package implements. */
    public static final CniVersion LATEST = V1_1_0;
    /** The version of a document that does not declare one (libcni's rule). */
    public static final CniVersion DEFAULT = V0_1_0;
    /** Every version this package can read and write, oldest first. */
    public static final List<CniVersion> ALL = List.of(V0_1_0, V0_2_0, V0_3_0, V0_3_1, V0_4_0, V1_0_0, V1_1_0);

    public CniVersion {
        if (major < 0 || minor < 0 || patch < 0) {
            throw Check.invalid("cniVersion", major + "." + minor + "." + patch + " has a negative part");
        }
    }

    /**
     * Parses {@code MAJOR.MINOR.PATCH}.
     *
     * @throws IllegalArgumentException with a message saying what is wrong
     */
    public static CniVersion parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("null is not a CNI version");
        }
        int[] parts = new int[3];
        int part = 0;
        int value = 0;
        int digits = 0;
        for (int i = 0, n = text.length(); i <= n; i++) {
            char c = i == n ? '.' : text.charAt(i);
            if (c >= '0' && c <= '9' && digits < 9) {
                value = value * 10 + (c - '0');
                digits++;
            } else if (c == '.' && digits > 0 && part < 3) {
                parts[part++] = value;
                value = 0;
                digits = 0;
            } else {
                part = -1;
                break;
            }
        }
        if (part != 3) {
            throw new IllegalArgumentException("'" + text + "' is not a CNI version (expected MAJOR.MINOR.PATCH)");
        }
        return of(parts[0], parts[1], parts[2]);
    }

    /** The constant for a known version, else a new instance. */
    public static CniVersion of(int major, int minor, int patch) {
        for (CniVersion v : ALL) {
            if (v.major == major && v.minor == minor && v.patch == patch) {
                return v;
            }
        }
        return new CniVersion(major, minor, patch);
    }

    /**
     * The {@code cniVersion} of a JSON document (a network configuration, the VERSION request, a
     * result) without decoding the rest, {@link #DEFAULT} when it has none. A plugin dispatcher uses
     * it to refuse an unsupported version (code 1) before decoding anything version-dependent.
     *
     * @throws CniException code 6 when the input is not a JSON object or the version is malformed
     */
    public static CniVersion of(byte[] document) throws CniException {
        JsonIn in = Json.open(document);
        try {
            in.beginObject("a JSON object");
            CniVersion found = null;
            for (String f = in.nextField(); f != null; f = in.nextField()) {
                if ("cniVersion".equals(f)) {
                    found = in.version(f);
                } else {
                    in.skip();
                }
            }
            Json.finish(in);
            return found == null ? DEFAULT : found;
        } catch (DecodeFailure | IOException e) {
            throw Json.failure(e, false);
        }
    }

    /** Whether this is one of {@link #ALL}. */
    public boolean isKnown() {
        for (CniVersion v : ALL) {
            if (v.major == major && v.minor == minor && v.patch == patch) {
                return true;
            }
        }
        return false;
    }

    /** {@code this >= other}. */
    public boolean isAtLeast(CniVersion other) {
        return compareTo(other) >= 0;
    }

    /** {@code this < other}. */
    public boolean isBefore(CniVersion other) {
        return compareTo(other) < 0;
    }

    /** Whether {@code versions} contains this version. */
    public boolean isIn(Collection<CniVersion> versions) {
        for (CniVersion v : versions) {
            if (v.major == major && v.minor == minor && v.patch == patch) {
                return true;
            }
        }
        return false;
    }

    /** The highest of {@code versions} that is not above {@code ceiling}: the runtime's negotiation rule. */
    public static Optional<CniVersion> highest(Collection<CniVersion> versions, CniVersion ceiling) {
        CniVersion best = null;
        for (CniVersion v : versions) {
            if (v.compareTo(ceiling) <= 0) {
                if (best == null || v.compareTo(best) > 0) {
                    best = v;
                }
            }
        }
        return Optional.ofNullable(best);
    }

    @Override
    public int compareTo(CniVersion o) {
        if (major != o.major) {
            return Integer.compare(major, o.major);
        }
        if (minor != o.minor) {
            return Integer.compare(minor, o.minor);
        }
        return Integer.compare(patch, o.patch);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof CniVersion)) {
            return false;
        }
        CniVersion v = (CniVersion) o;
        return v.major == major && v.minor == minor && v.patch == patch;
    }

    @Override
    public int hashCode() {
        return (major * 31 + minor) * 31 + patch;
    }

    /** {@code MAJOR.MINOR.PATCH}. */
    @Override
    public String toString() {
        return new StringBuilder(8).append(major).append('.').append(minor).append('.').append(patch).toString();
    }

    /** Writes the version as a JSON string. */
    @Override
    public void writeJson(JsonGenerator g) throws IOException {
        g.writeString(toString());
    }

    static CniVersion read(JsonIn in) throws IOException {
        if (in.token() != JsonToken.VALUE_STRING) {
            throw in.mismatch(null, "a version string");
        }
        return in.version(null);
    }
}
