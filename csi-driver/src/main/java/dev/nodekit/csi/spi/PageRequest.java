package dev.nodekit.csi.spi;

import java.util.Objects;

/**
 * Which page to list: after {@code startToken} (empty = from the start; an unknown token makes the
 * backend throw {@link StorageException.InvalidToken}), at most {@code maxEntries} (0 = no limit).
 */
public record PageRequest(String startToken, int maxEntries) {
    public PageRequest {
        Objects.requireNonNull(startToken, "startToken");
        if (maxEntries < 0) {
            throw new IllegalArgumentException("maxEntries must not be negative, got " + maxEntries);
        }
    }

    public static PageRequest all() {
        return new PageRequest("", 0);
    }
}
