package dev.nodekit.csi.spi;

/**
 * Free space for new images in a pool: what GetCapacity reports. {@code maximumVolumeSize} and
 * {@code minimumVolumeSize} are 0 when the backend has no such limit.
 */
public record Capacity(long availableBytes, long totalBytes, long maximumVolumeSize, long minimumVolumeSize) {
    public Capacity {
        if (availableBytes < 0 || totalBytes < 0 || maximumVolumeSize < 0 || minimumVolumeSize < 0) {
            throw new IllegalArgumentException("capacity figures must not be negative");
        }
    }
}
