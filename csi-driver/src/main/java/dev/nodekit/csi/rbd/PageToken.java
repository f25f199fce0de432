package dev.nodekit.csi.rbd;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;

import dev.nodekit.csi.spi.StorageException;

/**
 * Where a listing stopped: the cluster, the journal pool and the last directory key returned.
 * Opaque to the CO (base64url of {@code 1 NL cluster NL poolId NL key}); a key deleted since still
 * works as a position, so pages tolerate deletes. Anything that does not decode is
 * {@link StorageException.InvalidToken}.
 */
record PageToken(String clusterId, long poolId, String afterKey) {
    PageToken {
        Objects.requireNonNull(clusterId, "clusterId");
        Objects.requireNonNull(afterKey, "afterKey");
    }

    String encode() {
        String raw = "1\n" + clusterId + "\n" + poolId + "\n" + afterKey;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    static PageToken decode(String token) throws StorageException.InvalidToken {
        try {
            String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            String[] f = raw.split("\n", 4);
            if (f.length != 4 || !f[0].equals("1") || f[1].isEmpty()) {
                throw new IllegalArgumentException("bad fields");
            }
            long pool = Long.parseLong(f[2]);
            if (pool < 0) {
                throw new IllegalArgumentException("bad pool");
            }
            return new PageToken(f[1], pool, f[3]);
        } catch (IllegalArgumentException e) {
            throw new StorageException.InvalidToken("starting_token was not handed out by this driver "
                    + "(start again with an empty token)");
        }
    }
}
