package dev.nodekit.csi.rbd.ceph;

import java.util.Base64;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A Ceph client identity: the user id without the {@code client.} prefix (what CSI secrets call
 * {@code userID}, e.g. {@code csi}) and its cephx key (base64, as {@code ceph auth get-key}
 * prints it). The key only ever leaves this record through {@link #key()}, which
 * {@link RadosCluster} passes straight to {@code rados_conf_set("key", ...)};
 * {@link #toString()} prints {@code <redacted>} and no validation message quotes it.
 *
 * @param userId the user id, {@code [A-Za-z0-9._-]+}; a leading {@code client.} is stripped
 * @param key    the cephx secret in base64; surrounding whitespace is stripped
 */
public record CephCredentials(String userId, String key) {
    private static final Pattern USER_ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");
    /** A cephx key encodes: u16 type, u32 seconds, u32 nanoseconds, u16 secret length, secret. */
    private static final int KEY_HEADER_BYTES = 12;

    /** Validates both fields; the key's problems are described without quoting it. */
    public CephCredentials {
        Objects.requireNonNull(userId, "userId");
        Objects.requireNonNull(key, "key");
        if (userId.startsWith("client.")) {
            userId = userId.substring("client.".length());
        }
        if (!USER_ID.matcher(userId).matches()) {
            throw new IllegalArgumentException("Ceph user id '" + userId
                    + "' must be 1 to 128 of A-Z a-z 0-9 . _ - (without the 'client.' prefix)");
        }
        key = key.strip();
        validateKey(userId, key);
    }

    /** The entity name librados authenticates as: {@code client.<userId>}. */
    public String entityName() {
        return "client." + userId;
    }

    @Override
    public String toString() {
        return "CephCredentials[userId=" + userId + ", key=<redacted>]";
    }

    private static void validateKey(String userId, String key) {
        String problem = null;
        byte[] raw = null;
        if (key.isEmpty()) {
            problem = "is empty";
        } else {
            try {
                raw = Base64.getDecoder().decode(key);
            } catch (IllegalArgumentException e) {
                problem = "is not base64";
            }
        }
        if (problem == null && raw.length < KEY_HEADER_BYTES) {
            problem = "is too short to be a cephx key";
        }
        if (problem == null) {
            int secretLength = (raw[10] & 0xff) | (raw[11] & 0xff) << 8;
            if (secretLength == 0 || raw.length != KEY_HEADER_BYTES + secretLength) {
                problem = "does not have the cephx key layout (as printed by 'ceph auth get-key')";
            }
        }
        if (problem != null) {
            throw new IllegalArgumentException("the key of Ceph user '" + userId + "' " + problem);
        }
    }
}
