package dev.nodekit.csi.spi;

import java.util.Locale;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The id of a volume or snapshot, as the CO sees it: it locates the object on its own (no CO
 * state needed) and is validated before any path, command or key is built from it.
 *
 * <p>Format, version 1 (at most 128 bytes, the CSI limit):
 * <pre>  &lt;kind&gt;1-&lt;backend&gt;-&lt;len(cluster) as 4 hex&gt;-&lt;cluster&gt;-&lt;pool&gt;-&lt;uuid&gt;</pre>
 * e.g. {@code v1-local-0006-node-a-default-3f2a...}. {@code kind} is {@code v} (volume) or
 * {@code s} (snapshot); {@code backend} 1–8 lower-case letters; {@code cluster} 1–40 characters of
 * {@code [A-Za-z0-9._-]} (length-prefixed because cluster ids such as a Ceph fsid contain '-');
 * {@code pool} 1–24 characters of {@code [A-Za-z0-9_.]} (no '-': backends whose pool names may
 * contain one encode a stable pool id instead, as the RBD backend does); {@code uuid} a lower-case
 * RFC 4122 UUID. Newer versions are refused by {@link #parse} with a clear message.
 *
 * @param kind    volume or snapshot
 * @param backend backend kind, e.g. {@code local}, {@code rbd}
 * @param cluster where the pool lives (a node id, a Ceph cluster id)
 * @param pool    the pool token the backend chose
 * @param uuid    the object's own id
 */
public record ObjectId(Kind kind, String backend, String cluster, String pool, UUID uuid) {
    /** Volume or snapshot. */
    public enum Kind {
        VOLUME('v'), SNAPSHOT('s');

        private final char prefix;

        Kind(char prefix) {
            this.prefix = prefix;
        }
    }

    /** The CSI limit on volume and snapshot ids. */
    public static final int MAX_BYTES = 128;
    private static final Pattern BACKEND = Pattern.compile("[a-z]{1,8}");
    private static final Pattern CLUSTER = Pattern.compile("[A-Za-z0-9._-]{1,40}");
    private static final Pattern POOL = Pattern.compile("[A-Za-z0-9_.]{1,24}");
    private static final Pattern UUID_TEXT =
            Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    public ObjectId {
        Objects.requireNonNull(kind, "kind");
        check(BACKEND, backend, "backend");
        check(CLUSTER, cluster, "cluster");
        check(POOL, pool, "pool");
        Objects.requireNonNull(uuid, "uuid");
        if (cluster.equals(".") || cluster.equals("..") || pool.equals(".") || pool.equals("..")) {
            throw new IllegalArgumentException("cluster and pool must not be '.' or '..'");
        }
    }

    /** A new volume id with a random UUID. */
    public static ObjectId newVolume(String backend, String cluster, String pool) {
        return new ObjectId(Kind.VOLUME, backend, cluster, pool, UUID.randomUUID());
    }

    /** A new snapshot id with a random UUID. */
    public static ObjectId newSnapshot(String backend, String cluster, String pool) {
        return new ObjectId(Kind.SNAPSHOT, backend, cluster, pool, UUID.randomUUID());
    }

    /** The id as the CO sees it. */
    public String encode() {
        return kind.prefix + "1-" + backend + "-" + String.format(Locale.ROOT, "%04x", cluster.length()) + "-"
                + cluster + "-" + pool + "-" + uuid;
    }

    @Override
    public String toString() {
        return encode();
    }

    /**
     * Parses and validates an id received from the CO.
     *
     * @throws InvalidIdException naming what is wrong; never echoes more than 64 characters of input
     */
    public static ObjectId parse(String text, Kind expected) throws InvalidIdException {
        if (text == null || text.isEmpty()) {
            throw new InvalidIdException(expected, "", "is empty");
        }
        if (text.length() > MAX_BYTES || text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_BYTES) {
            throw new InvalidIdException(expected, text, "is longer than " + MAX_BYTES + " bytes");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                throw new InvalidIdException(expected, text, "contains a control, space or non-ASCII character");
            }
        }
        if (text.charAt(0) != expected.prefix) {
            throw new InvalidIdException(expected, text, "is not a nodekit " + expected.name().toLowerCase(Locale.ROOT)
                    + " id (expected prefix '" + expected.prefix + "')");
        }
        int dash = text.indexOf('-');
        if (dash < 0) {
            throw new InvalidIdException(expected, text, "has no version");
        }
        String version = text.substring(1, dash);
        if (!version.equals("1")) {
            throw new InvalidIdException(expected, text, "has id format version '" + version
                    + "'; this nodekit reads version 1 (upgrade nodekit)");
        }
        try {
            int p = dash + 1;
            int q = text.indexOf('-', p);
            String backend = text.substring(p, q);
            p = q + 1;
            int len = Integer.parseInt(text.substring(p, p + 4), 16);
            if (text.charAt(p + 4) != '-') {
                throw new IllegalArgumentException("bad cluster length field");
            }
            p += 5;
            String cluster = text.substring(p, p + len);
            p += len;
            if (text.charAt(p) != '-') {
                throw new IllegalArgumentException("cluster length does not match");
            }
            p++;
            q = text.indexOf('-', p);
            String pool = text.substring(p, q);
            String uuid = text.substring(q + 1);
            if (!UUID_TEXT.matcher(uuid).matches()) {
                throw new IllegalArgumentException("bad uuid");
            }
            ObjectId id = new ObjectId(expected, backend, cluster, pool, UUID.fromString(uuid));
            if (!id.encode().equals(text)) {
                throw new IllegalArgumentException("not in canonical form");
            }
            return id;
        } catch (RuntimeException e) {
            throw new InvalidIdException(expected, text, "is malformed (" + e.getMessage() + ")");
        }
    }

    private static void check(Pattern p, String v, String field) {
        if (v == null || !p.matcher(v).matches()) {
            throw new IllegalArgumentException(field + " '" + v + "' does not match " + p.pattern());
        }
    }
}
