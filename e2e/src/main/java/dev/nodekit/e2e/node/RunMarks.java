package dev.nodekit.e2e.node;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Everything one node run names on the host, derived from its run id and run dir alone, so that a
 * process that only saw the run's first output line (the demo prints both) can find what the run
 * left: the run dir holds every file, socket, mount point and backing file; host-wide names carry
 * the run id.
 *
 * @param runId  8 lower-case hex digits
 * @param runDir the one directory holding all of the run's files (absolute)
 */
public record RunMarks(String runId, Path runDir) {
    private static final Pattern RUN_ID = Pattern.compile("[0-9a-f]{8}");

    public RunMarks {
        Objects.requireNonNull(runId, "runId");
        Objects.requireNonNull(runDir, "runDir");
        if (!RUN_ID.matcher(runId).matches()) {
            throw new IllegalArgumentException("run id '" + runId + "' must be 8 lower-case hex digits");
        }
        if (!runDir.isAbsolute()) {
            throw new IllegalArgumentException("run dir must be absolute: " + runDir);
        }
        runDir = runDir.normalize();
    }

    /** The pod bridge: {@code nk<runId>b} (11 characters, within Linux's 15). */
    public String bridge() {
        return "nk" + runId + "b";
    }

    /** The CNI network name, which the masquerade rules' comments carry: {@code nodekit-<runId>}. */
    public String network() {
        return "nodekit-" + runId;
    }

    /** The containerd fixture's id: its dir {@code nodekit-ctrd-<runId>-*} and cgroup parent. */
    public String containerdId() {
        return runId;
    }

    /** The cgroup parent pods of the run live under (cgroupfs). */
    public String cgroupName() {
        return "nodekit-ctrd-" + runId;
    }

    /** Names of the plain network namespaces of a run without containerd ({@code /var/run/netns/...}). */
    public List<String> netnsNames() {
        return List.of("nk-" + runId + "-a", "nk-" + runId + "-b");
    }

    /** host-local's data dir (the conflist's {@code ipam.dataDir}). */
    public Path ipamDataDir() {
        return runDir.resolve("cni-ipam");
    }

    /** The network's allocation dir: one file per address in use. */
    public Path ipamNetworkDir() {
        return ipamDataDir().resolve(network());
    }

    /** The runtime's CNI bin dir (nodekit's launchers). */
    public Path cniBinDir() {
        return runDir.resolve("cni-bin");
    }

    /** The runtime's CNI conf dir (nodekit's conflist). */
    public Path cniConfDir() {
        return runDir.resolve("cni-conf");
    }

    /** The jars and class-data archive the launchers run. */
    public Path cniLibDir() {
        return runDir.resolve("cni-lib");
    }

    /** kubelet's root dir for this run (staging and publish paths under it). */
    public Path kubeletDir() {
        return runDir.resolve("kubelet");
    }

    /** The CSI driver's dir: its socket {@code csi.sock}, data dir {@code data}, log {@code driver.log}. */
    public Path csiDir() {
        return runDir.resolve("csi");
    }

    /** The CSI driver's data dir (images, journal). */
    public Path csiDataDir() {
        return csiDir().resolve("data");
    }

    /** The CSI driver's socket. */
    public Path csiSocket() {
        return csiDir().resolve("csi.sock");
    }

    /** The CRI shim's socket (kubelet's runtime endpoint). */
    public Path shimSocket() {
        return runDir.resolve("cri-shim.sock");
    }
}
