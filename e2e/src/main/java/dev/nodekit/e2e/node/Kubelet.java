package dev.nodekit.e2e.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import dev.nodekit.e2e.containerd.ContainerdFixture;
import dev.nodekit.spec.cri.v1.ContainerConfig;
import dev.nodekit.spec.cri.v1.ContainerMetadata;
import dev.nodekit.spec.cri.v1.ContainerState;
import dev.nodekit.spec.cri.v1.ContainerStatusRequest;
import dev.nodekit.spec.cri.v1.CreateContainerRequest;
import dev.nodekit.spec.cri.v1.ExecSyncRequest;
import dev.nodekit.spec.cri.v1.ExecSyncResponse;
import dev.nodekit.spec.cri.v1.ImageSpec;
import dev.nodekit.spec.cri.v1.KeyValue;
import dev.nodekit.spec.cri.v1.LinuxPodSandboxConfig;
import dev.nodekit.spec.cri.v1.Mount;
import dev.nodekit.spec.cri.v1.PodSandboxConfig;
import dev.nodekit.spec.cri.v1.PodSandboxMetadata;
import dev.nodekit.spec.cri.v1.PodSandboxStatusRequest;
import dev.nodekit.spec.cri.v1.RemoveContainerRequest;
import dev.nodekit.spec.cri.v1.RemovePodSandboxRequest;
import dev.nodekit.spec.cri.v1.RunPodSandboxRequest;
import dev.nodekit.spec.cri.v1.RuntimeServiceGrpc;
import dev.nodekit.spec.cri.v1.StartContainerRequest;
import dev.nodekit.spec.cri.v1.StopContainerRequest;
import dev.nodekit.spec.cri.v1.StopPodSandboxRequest;
import dev.nodekit.spec.csi.v1.ControllerGrpc;
import dev.nodekit.spec.csi.v1.CreateVolumeRequest;
import dev.nodekit.spec.csi.v1.CapacityRange;
import dev.nodekit.spec.csi.v1.DeleteVolumeRequest;
import dev.nodekit.spec.csi.v1.GetPluginInfoRequest;
import dev.nodekit.spec.csi.v1.IdentityGrpc;
import dev.nodekit.spec.csi.v1.NodeGrpc;
import dev.nodekit.spec.csi.v1.NodePublishVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeStageVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnpublishVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnstageVolumeRequest;
import dev.nodekit.spec.csi.v1.VolumeCapability;
import io.grpc.Channel;

/**
 * The calls kubelet (and the external-provisioner, for create and delete) makes, in its order and
 * with its paths under the run's kubelet dir: staging at
 * {@code plugins/kubernetes.io/csi/<driver>/<sha256(volume id)>/globalmount}, publish at
 * {@code pods/<pod uid>/volumes/kubernetes.io~csi/<pv>/mount} (kubelet makes the parents, the
 * driver the target); pods in the containerd fixture's cgroup parent with their logs in its pod
 * log root; containers of the busybox image. Every call has the node's deadline.
 */
public final class Kubelet {
    private static final String NAMESPACE = "nodekit-node";

    private final Channel csi;
    private final Channel cri;
    private final RunMarks marks;
    private final Optional<ContainerdFixture> containerd;
    private final Duration timeout;
    private final StorageClass storageClass;
    private final VolumeCapability capability;
    private volatile String driverName;

    Kubelet(Channel csi, Channel cri, RunMarks marks, Optional<ContainerdFixture> containerd, Duration timeout,
            StorageClass storageClass) {
        this.csi = Objects.requireNonNull(csi, "csi");
        this.cri = cri;
        this.marks = marks;
        this.containerd = containerd;
        this.timeout = timeout;
        this.storageClass = Objects.requireNonNull(storageClass, "storageClass");
        this.capability = VolumeCapability.newBuilder()
                .setMount(VolumeCapability.MountVolume.newBuilder().setFsType(storageClass.fsType()))
                .setAccessMode(VolumeCapability.AccessMode.newBuilder()
                        .setMode(VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER))
                .build();
    }

    /**
     * What the PVC's StorageClass gives the driver: the filesystem ({@code csi.storage.k8s.io/fstype}),
     * the opaque parameters, and the secrets the sidecars and kubelet send with create, delete, stage
     * and publish (one secret for all, as most drivers are deployed).
     *
     * @param fsType     filesystem of the volumes (ext4, xfs)
     * @param parameters CreateVolume parameters
     * @param secrets    secrets for every call that has a secrets field; never logged
     */
    public record StorageClass(String fsType, Map<String, String> parameters, Map<String, String> secrets) {
        public StorageClass {
            Objects.requireNonNull(fsType, "fsType");
            parameters = Map.copyOf(parameters);
            secrets = Map.copyOf(secrets);
        }

        /** The embedded local backend: ext4, no parameters, no secrets. */
        public static StorageClass localExt4() {
            return new StorageClass("ext4", Map.of(), Map.of());
        }

        @Override
        public String toString() {
            return "StorageClass[fsType=" + fsType + ", parameters=" + parameters + ", secrets=" + secrets.keySet() + "]";
        }
    }

    /**
     * A provisioned volume.
     *
     * @param pvName   the PersistentVolume's name (the publish path's last directory)
     * @param id       the driver's volume id (the PV's volumeHandle)
     * @param context  the volume context CreateVolume returned, passed on to stage and publish
     * @param bytes    its capacity
     */
    public record Volume(String pvName, String id, Map<String, String> context, long bytes) {
        public Volume {
            context = Map.copyOf(context);
        }
    }

    /**
     * A running pod sandbox.
     *
     * @param name   metadata name
     * @param uid    metadata uid (the publish path's pod dir)
     * @param id     the sandbox id the runtime gave
     * @param config the config it was run with (CreateContainer needs it again)
     * @param ip     its IP on the pod network, from PodSandboxStatus
     */
    public record Pod(String name, String uid, String id, PodSandboxConfig config, String ip) {
    }

    // ---------------------------------------------------------------------------------------------- CSI

    /** The driver's name (GetPluginInfo), the directory of its staging paths. */
    public String driverName() {
        String n = driverName;
        if (n == null) {
            n = IdentityGrpc.newBlockingStub(csi).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .getPluginInfo(GetPluginInfoRequest.getDefaultInstance()).getName();
            driverName = n;
        }
        return n;
    }

    /** CreateVolume of {@code bytes} for PV {@code pvName}, as the external-provisioner sends it. */
    public Volume createVolume(String pvName, long bytes) {
        var v = controller().createVolume(CreateVolumeRequest.newBuilder().setName(pvName)
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(bytes)).addVolumeCapabilities(capability)
                .putAllParameters(storageClass.parameters()).putAllSecrets(storageClass.secrets()).build()).getVolume();
        return new Volume(pvName, v.getVolumeId(), v.getVolumeContextMap(), v.getCapacityBytes());
    }

    /** kubelet's staging path of {@code v} (k8s 1.24+: the sha256 of the volume handle). */
    public Path stagingPath(Volume v) {
        return marks.kubeletDir().resolve("plugins/kubernetes.io/csi").resolve(driverName()).resolve(sha256(v.id()))
                .resolve("globalmount");
    }

    /** kubelet's publish target of {@code v} for the pod with {@code podUid}. */
    public Path publishPath(Volume v, String podUid) {
        return marks.kubeletDir().resolve("pods").resolve(podUid).resolve("volumes/kubernetes.io~csi")
                .resolve(v.pvName()).resolve("mount");
    }

    /** NodeStageVolume at the staging path (kubelet makes its parent first). */
    public Path stage(Volume v) throws IOException {
        Path staging = stagingPath(v);
        Files.createDirectories(staging.getParent());
        node().nodeStageVolume(NodeStageVolumeRequest.newBuilder().setVolumeId(v.id())
                .setStagingTargetPath(staging.toString()).setVolumeCapability(capability)
                .putAllVolumeContext(v.context()).putAllSecrets(storageClass.secrets()).build());
        return staging;
    }

    /** NodePublishVolume to the pod's volume dir (kubelet makes the parent, the driver the target). */
    public Path publish(Volume v, String podUid) throws IOException {
        Path target = publishPath(v, podUid);
        Files.createDirectories(target.getParent());
        node().nodePublishVolume(NodePublishVolumeRequest.newBuilder().setVolumeId(v.id())
                .setStagingTargetPath(stagingPath(v).toString()).setTargetPath(target.toString())
                .setVolumeCapability(capability).putAllVolumeContext(v.context()).putAllSecrets(storageClass.secrets())
                .build());
        return target;
    }

    /** NodeUnpublishVolume of the pod's target; kubelet then removes the pod's volume dir. */
    public void unpublish(Volume v, String podUid) throws IOException {
        Path target = publishPath(v, podUid);
        node().nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder().setVolumeId(v.id())
                .setTargetPath(target.toString()).build());
        Files.deleteIfExists(target.getParent());
    }

    /** NodeUnstageVolume of the staging path. */
    public void unstage(Volume v) {
        node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(v.id())
                .setStagingTargetPath(stagingPath(v).toString()).build());
    }

    /** DeleteVolume, as the external-provisioner sends it when the PV is released. */
    public void deleteVolume(Volume v) {
        controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(v.id())
                .putAllSecrets(storageClass.secrets()).build());
    }

    // ---------------------------------------------------------------------------------------------- CRI

    /** A new pod uid: kubelet knows it before the sandbox exists (volumes are published first). */
    public static String newPodUid() {
        return UUID.randomUUID().toString();
    }

    /** RunPodSandbox through kubelet's runtime endpoint; returns the pod with the IP its network gave it. */
    public Pod runPod(String name, String uid) throws IOException {
        ContainerdFixture c = containerd.orElseThrow(() -> new IllegalStateException("no containerd in this run"));
        Path logs = c.podLogRoot().resolve(NAMESPACE + "_" + name + "_" + uid);
        Files.createDirectories(logs);
        PodSandboxConfig config = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setUid(uid).setNamespace(NAMESPACE))
                .setHostname(name)
                .setLogDirectory(logs.toString())
                .setLinux(LinuxPodSandboxConfig.newBuilder().setCgroupParent(c.cgroupParent() + "/pod" + uid))
                .build();
        String id = runtime().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config).build())
                .getPodSandboxId();
        String ip = runtime().podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(id).build())
                .getStatus().getNetwork().getIp();
        return new Pod(name, uid, id, config, ip);
    }

    /**
     * CreateContainer of a busybox container running {@code sh -c script} in {@code pod}, with
     * {@code env}, and the host dir {@code volume} (a publish target) mounted at {@code mountPath}
     * when given; then StartContainer. Returns the container id.
     */
    public String startContainer(Pod pod, String name, String script, Map<String, String> env, Optional<Path> volume,
            String mountPath) {
        ContainerdFixture c = containerd.orElseThrow(() -> new IllegalStateException("no containerd in this run"));
        ContainerConfig.Builder b = ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                .setImage(ImageSpec.newBuilder().setImage(c.busyboxImage()))
                .addAllCommand(List.of("sh", "-c", script))
                .setLogPath(name + ".log");
        env.forEach((k, v) -> b.addEnvs(KeyValue.newBuilder().setKey(k).setValue(com.google.protobuf.ByteString.copyFromUtf8(v))));
        volume.ifPresent(dir -> b.addMounts(Mount.newBuilder().setHostPath(dir.toString()).setContainerPath(mountPath)));
        String id = runtime().createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod.id())
                .setSandboxConfig(pod.config()).setConfig(b).build()).getContainerId();
        runtime().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        return id;
    }

    /** The container's state now. */
    public ContainerState containerState(String containerId) {
        return runtime().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(containerId).build())
                .getStatus().getState();
    }

    /** ExecSync in the container, bounded by {@code limit}. */
    public ExecSyncResponse exec(String containerId, Duration limit, String... cmd) {
        return runtime().execSync(ExecSyncRequest.newBuilder().setContainerId(containerId).addAllCmd(List.of(cmd))
                .setTimeout(Math.max(1, limit.toSeconds())).build());
    }

    /** StopContainer (SIGTERM, SIGKILL after {@code grace}) and RemoveContainer. */
    public void stopAndRemoveContainer(String containerId, Duration grace) {
        runtime().stopContainer(StopContainerRequest.newBuilder().setContainerId(containerId)
                .setTimeout(grace.toSeconds()).build());
        runtime().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(containerId).build());
    }

    /** StopPodSandbox (the runtime runs CNI DEL) and RemovePodSandbox. */
    public void stopAndRemovePod(Pod pod) {
        runtime().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod.id()).build());
        runtime().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod.id()).build());
    }

    // ---------------------------------------------------------------------------------------------- stubs

    private ControllerGrpc.ControllerBlockingStub controller() {
        return ControllerGrpc.newBlockingStub(csi).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private NodeGrpc.NodeBlockingStub node() {
        return NodeGrpc.newBlockingStub(csi).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime() {
        if (cri == null) {
            throw new IllegalStateException("no CRI endpoint in this run");
        }
        return RuntimeServiceGrpc.newBlockingStub(cri).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Lower-case hex sha256 of {@code text} (kubelet's staging dir name of a volume handle). */
    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
