package dev.nodekit.csi;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import dev.nodekit.spec.csi.v1.VolumeCapability;
import dev.nodekit.spec.csi.v1.VolumeCapability.AccessMode.Mode;

/**
 * A CSI {@code VolumeCapability} as this driver understands it: block or mount (with filesystem
 * and mount flags) and the access mode. {@link #parse} rejects what is malformed
 * (INVALID_ARGUMENT); {@link #unsupported()} says what is well formed but not offered here, so each
 * RPC can answer with its own code for that (INVALID_ARGUMENT on create, FAILED_PRECONDITION on
 * stage and publish, "not confirmed" on validate).
 */
record VolumeAccess(Type type, String fsType, List<String> mountFlags, Mode mode) {
    /** Raw block device or mounted filesystem. */
    enum Type { BLOCK, MOUNT }

    /** Filesystems this driver formats and grows. */
    static final Set<String> FILESYSTEMS = Set.of("ext4", "xfs");
    /** Used when a mount capability names no filesystem. */
    static final String DEFAULT_FS = "ext4";
    /** Image metadata key: {@code block} or {@code mount}. */
    static final String META_ACCESS_TYPE = "csi.nodekit.dev/access-type";
    /** Image metadata key: the filesystem of a mount volume. */
    static final String META_FS_TYPE = "csi.nodekit.dev/fs-type";

    private static final Pattern MOUNT_FLAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.:=/@+-]*");
    /** Flags that would change what the mount is rather than how it behaves. */
    private static final Set<String> FORBIDDEN_FLAGS = Set.of("bind", "rbind", "remount", "move", "make-shared",
            "make-private", "make-slave", "make-rshared", "make-rprivate", "make-rslave");

    VolumeAccess {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(fsType, "fsType");
        mountFlags = List.copyOf(mountFlags);
        Objects.requireNonNull(mode, "mode");
    }

    /**
     * Parses a capability; {@code field} names it in messages ({@code volume_capabilities[1]}).
     *
     * @throws io.grpc.StatusRuntimeException INVALID_ARGUMENT when the access type or mode is missing
     *         or a mount flag is malformed
     */
    static VolumeAccess parse(VolumeCapability cap, String field) {
        Mode mode = cap.getAccessMode().getMode();
        if (!cap.hasAccessMode() || mode == Mode.UNKNOWN || mode == Mode.UNRECOGNIZED) {
            throw Requests.invalid(field + ".access_mode is required");
        }
        if (cap.hasBlock()) {
            return new VolumeAccess(Type.BLOCK, "", List.of(), mode);
        }
        if (!cap.hasMount()) {
            throw Requests.invalid(field + " needs an access type: block or mount");
        }
        VolumeCapability.MountVolume m = cap.getMount();
        List<String> flags = new ArrayList<>();
        for (int i = 0; i < m.getMountFlagsCount(); i++) {
            String f = m.getMountFlags(i);
            // A flag "a,b" is accepted as two flags, the way mount(8) reads it.
            for (String part : f.split(",", -1)) {
                if (part.isEmpty() || !MOUNT_FLAG.matcher(part).matches()) {
                    throw Requests.invalid(field + ".mount.mount_flags[" + i + "] '" + Requests.shorten(f)
                            + "' is not a mount option");
                }
                if (FORBIDDEN_FLAGS.contains(part)) {
                    throw Requests.invalid(field + ".mount.mount_flags[" + i + "] '" + part
                            + "' is not allowed (the driver decides how the volume is mounted)");
                }
                if (!flags.contains(part)) {
                    flags.add(part);
                }
            }
        }
        if (!m.getVolumeMountGroup().isEmpty()) {
            throw Requests.invalid(field + ".mount.volume_mount_group is not supported by this driver "
                    + "(it does not advertise VOLUME_MOUNT_GROUP)");
        }
        String fs = m.getFsType().isEmpty() ? DEFAULT_FS : m.getFsType();
        return new VolumeAccess(Type.MOUNT, fs, flags, mode);
    }

    /** Why this driver cannot provide the capability, or empty when it can. */
    Optional<String> unsupported() {
        switch (mode) {
            case SINGLE_NODE_WRITER, SINGLE_NODE_READER_ONLY, SINGLE_NODE_SINGLE_WRITER, SINGLE_NODE_MULTI_WRITER -> {
            }
            default -> {
                return Optional.of("access mode " + mode + " is not supported: a volume of this driver lives on one "
                        + "node's disk, so only SINGLE_NODE_* modes (ReadWriteOnce, ReadWriteOncePod) are offered");
            }
        }
        if (type == Type.MOUNT && !FILESYSTEMS.contains(fsType)) {
            return Optional.of("filesystem '" + Requests.shorten(fsType) + "' is not supported (supported: ext4, xfs)");
        }
        return Optional.empty();
    }

    /** True for SINGLE_NODE_READER_ONLY: mounted read-only everywhere. */
    boolean readOnlyMode() {
        return mode == Mode.SINGLE_NODE_READER_ONLY;
    }

    /** True when several targets on the node may publish the volume at once (spec: the MULTI modes). */
    boolean multipleTargets() {
        return mode == Mode.SINGLE_NODE_MULTI_WRITER || mode == Mode.MULTI_NODE_MULTI_WRITER
                || mode == Mode.MULTI_NODE_READER_ONLY || mode == Mode.MULTI_NODE_SINGLE_WRITER;
    }

    /** What image metadata records, so that idempotent creates and validations can compare. */
    Map<String, String> metadata() {
        return type == Type.BLOCK ? Map.of(META_ACCESS_TYPE, "block")
                : Map.of(META_ACCESS_TYPE, "mount", META_FS_TYPE, fsType);
    }

    /**
     * Whether a volume created with {@code metadata} can be used with this capability: same access
     * type and, for mount volumes, the same filesystem. A volume with no recorded type (created by
     * another tool) is compatible with anything.
     */
    Optional<String> incompatibleWith(Map<String, String> metadata) {
        String t = metadata.get(META_ACCESS_TYPE);
        if (t == null) {
            return Optional.empty();
        }
        String want = type == Type.BLOCK ? "block" : "mount";
        if (!t.equals(want)) {
            return Optional.of("the volume was created for " + t + " access, not " + want);
        }
        String fs = metadata.get(META_FS_TYPE);
        if (type == Type.MOUNT && fs != null && !fs.equals(fsType)) {
            return Optional.of("the volume was created with filesystem " + fs + ", not " + fsType);
        }
        return Optional.empty();
    }

    /**
     * The single access type and filesystem a list of capabilities asks for at create time, or an
     * INVALID_ARGUMENT naming the first capability that disagrees: a volume is either block or
     * mount, and has one filesystem.
     */
    static VolumeAccess single(List<VolumeAccess> all, String field) {
        VolumeAccess first = all.get(0);
        for (int i = 1; i < all.size(); i++) {
            VolumeAccess a = all.get(i);
            if (a.type != first.type) {
                throw Requests.invalid(field + "[" + i + "] asks for " + a.type + " access but " + field
                        + "[0] for " + first.type + "; a volume is one or the other");
            }
            if (a.type == Type.MOUNT && !a.fsType.equals(first.fsType)) {
                throw Requests.invalid(field + "[" + i + "] asks for filesystem " + a.fsType + " but " + field
                        + "[0] for " + first.fsType + "; a volume has one filesystem");
            }
        }
        return first;
    }
}
