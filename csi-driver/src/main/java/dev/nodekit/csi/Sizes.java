package dev.nodekit.csi;

import dev.nodekit.spec.csi.v1.CapacityRange;

/**
 * Volume sizes from a CSI {@code capacity_range}: {@code required_bytes} is the floor,
 * {@code limit_bytes} the ceiling, 0 means "not specified". Sizes are whole MiB (a loop device
 * needs 512-byte sectors, filesystems want 4 KiB blocks; MiB keeps every tool happy).
 */
final class Sizes {
    static final long MIB = 1L << 20;
    static final long GIB = 1L << 30;
    /** What a volume gets when neither required_bytes nor a content source says. */
    static final long DEFAULT_BYTES = GIB;
    /** mkfs.xfs (xfsprogs 5.19 and later) refuses filesystems below 300 MB. */
    static final long XFS_MIN_BYTES = 300 * MIB;

    private Sizes() {
    }

    /**
     * Checks the range's own rules: no negative numbers (INVALID_ARGUMENT) and a limit, when set,
     * not below the requirement (OUT_OF_RANGE).
     */
    static void check(CapacityRange r, String field) {
        if (r.getRequiredBytes() < 0) {
            throw Requests.invalid(field + ".required_bytes must not be negative");
        }
        if (r.getLimitBytes() < 0) {
            throw Requests.invalid(field + ".limit_bytes must not be negative");
        }
        if (r.getLimitBytes() > 0 && r.getLimitBytes() < r.getRequiredBytes()) {
            throw Requests.outOfRange(field + ".limit_bytes (" + r.getLimitBytes() + ") is below required_bytes ("
                    + r.getRequiredBytes() + ")");
        }
    }

    /**
     * The size of a new volume: at least {@code required_bytes}, the source's size, the backend's
     * minimum and {@code floor} (the filesystem's minimum); {@link #DEFAULT_BYTES} (or the source's
     * size) when nothing is required; rounded up to whole MiB; never above {@code limit_bytes} or
     * the backend's {@code maximum} (0 = none).
     *
     * @throws io.grpc.StatusRuntimeException OUT_OF_RANGE naming the bound that cannot be met
     */
    static long forCreate(CapacityRange r, long sourceBytes, long floor, long backendMin, long backendMax) {
        check(r, "capacity_range");
        long required = r.getRequiredBytes();
        long limit = r.getLimitBytes();
        long lower = Math.max(Math.max(required, sourceBytes), Math.max(floor, backendMin));
        long want = required > 0 || sourceBytes > 0 ? lower : Math.max(lower, limit > 0 ? Math.min(DEFAULT_BYTES, limit)
                : DEFAULT_BYTES);
        want = alignUp(want);
        if (limit > 0 && want > limit) {
            long down = limit / MIB * MIB;
            if (down < lower || down == 0) {
                throw Requests.outOfRange("capacity_range.limit_bytes " + limit + " is below what the volume needs: "
                        + describeFloor(required, sourceBytes, floor, backendMin) + ", in whole MiB");
            }
            want = down;
        }
        if (backendMax > 0 && want > backendMax) {
            throw Requests.outOfRange("a volume of " + want + " bytes is larger than the backend's maximum of "
                    + backendMax + " bytes");
        }
        return want;
    }

    /**
     * The size to grow a volume of {@code current} bytes to: {@code current} when it already meets
     * {@code required_bytes}, else required rounded up to whole MiB within the limit.
     */
    static long forExpand(CapacityRange r, long current, long backendMax) {
        check(r, "capacity_range");
        long required = r.getRequiredBytes();
        long limit = r.getLimitBytes();
        if (required == 0 && limit == 0) {
            throw Requests.invalid("capacity_range needs required_bytes or limit_bytes");
        }
        if (limit > 0 && limit < current) {
            throw Requests.outOfRange("capacity_range.limit_bytes " + limit + " is below the volume's size " + current
                    + "; volumes cannot shrink");
        }
        if (required <= current) {
            return current;
        }
        long want = alignUp(required);
        if (limit > 0 && want > limit) {
            // A limit that is not whole MiB: fall back to whole 512-byte sectors, the loop device's unit.
            want = (required + 511) / 512 * 512;
            if (want > limit) {
                throw Requests.outOfRange("capacity_range [" + required + ", " + limit
                        + "] holds no size in whole 512-byte sectors");
            }
        }
        if (backendMax > 0 && want > backendMax) {
            throw Requests.outOfRange("a volume of " + want + " bytes is larger than the backend's maximum of "
                    + backendMax + " bytes");
        }
        return want;
    }

    /** True when {@code size} lies within the range (0 bounds are open). */
    static boolean within(CapacityRange r, long size) {
        return size >= r.getRequiredBytes() && (r.getLimitBytes() == 0 || size <= r.getLimitBytes());
    }

    static long alignUp(long bytes) {
        if (bytes > Long.MAX_VALUE - MIB) {
            throw Requests.outOfRange("a size of " + bytes + " bytes cannot be provided");
        }
        return (bytes + MIB - 1) / MIB * MIB;
    }

    private static String describeFloor(long required, long source, long floor, long backendMin) {
        StringBuilder sb = new StringBuilder();
        sb.append("required_bytes ").append(required);
        if (source > 0) {
            sb.append(", content source size ").append(source);
        }
        if (floor > 0) {
            sb.append(", filesystem minimum ").append(floor);
        }
        if (backendMin > 0) {
            sb.append(", backend minimum ").append(backendMin);
        }
        return sb.toString();
    }
}
