package dev.nodekit.cni.api;

/**
 * The value of {@code CNI_COMMAND}. Which other variables each command requires follows Go's skel
 * (stricter than the spec text: {@code CNI_PATH} is required wherever a plugin may delegate).
 */
public enum CniCommand {
    /** Attach a container to the network; prints a result. */
    ADD(true, true, true, true),
    /** Detach; must succeed when things are already gone. */
    DEL(true, false, true, true),
    /** Verify an attachment against its prevResult (spec 0.4.0 and later). */
    CHECK(true, true, true, true),
    /** Whether the plugin can serve ADD (spec 1.1.0). */
    STATUS(false, false, false, true),
    /** Release what belongs to attachments not in {@code cni.dev/valid-attachments} (spec 1.1.0). */
    GC(false, false, false, true),
    /** Print the supported spec versions. */
    VERSION(false, false, false, false);

    private final boolean needsContainerId;
    private final boolean needsNetns;
    private final boolean needsIfName;
    private final boolean needsPath;

    CniCommand(boolean needsContainerId, boolean needsNetns, boolean needsIfName, boolean needsPath) {
        this.needsContainerId = needsContainerId;
        this.needsNetns = needsNetns;
        this.needsIfName = needsIfName;
        this.needsPath = needsPath;
    }

    /** Whether {@code CNI_CONTAINERID} is required. */
    public boolean needsContainerId() {
        return needsContainerId;
    }

    /** Whether {@code CNI_NETNS} is required. */
    public boolean needsNetns() {
        return needsNetns;
    }

    /** Whether {@code CNI_IFNAME} is required. */
    public boolean needsIfName() {
        return needsIfName;
    }

    /** Whether {@code CNI_PATH} is required. */
    public boolean needsPath() {
        return needsPath;
    }

    /** The command called {@code name} (exact, upper case), or null. */
    public static CniCommand byName(String name) {
        if (name == null) {
            return null;
        }
        switch (name) {
            case "ADD":
                return ADD;
            case "DEL":
                return DEL;
            case "CHECK":
                return CHECK;
            case "STATUS":
                return STATUS;
            case "GC":
                return GC;
            case "VERSION":
                return VERSION;
            default:
                return null;
        }
    }
}
