package dev.nodekit.csi.rbd;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.e2e.CsiDriverProcess;
import dev.nodekit.spec.csi.v1.CapacityRange;
import dev.nodekit.spec.csi.v1.ControllerGrpc;
import dev.nodekit.spec.csi.v1.CreateVolumeRequest;
import dev.nodekit.spec.csi.v1.DeleteVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeGrpc;
import dev.nodekit.spec.csi.v1.VolumeCapability;
import io.grpc.ManagedChannel;

/** A CO-like client of a driver under test: stubs with deadlines and the requests the RBD ITs send. */
final class RbdDriverClient implements AutoCloseable {
    final ManagedChannel channel;
    final Map<String, String> params;
    final Map<String, String> secrets;

    RbdDriverClient(CsiDriverProcess driver, Map<String, String> params, Map<String, String> secrets) {
        this.channel = UdsChannels.forTarget(driver.endpoint());
        this.params = params;
        this.secrets = secrets;
    }

    ControllerGrpc.ControllerBlockingStub controller(long seconds) {
        return ControllerGrpc.newBlockingStub(channel).withDeadlineAfter(seconds, TimeUnit.SECONDS);
    }

    NodeGrpc.NodeBlockingStub node(long seconds) {
        return NodeGrpc.newBlockingStub(channel).withDeadlineAfter(seconds, TimeUnit.SECONDS);
    }

    static VolumeCapability mount(String fs) {
        return VolumeCapability.newBuilder().setMount(VolumeCapability.MountVolume.newBuilder().setFsType(fs))
                .setAccessMode(VolumeCapability.AccessMode.newBuilder()
                        .setMode(VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER)).build();
    }

    static VolumeCapability block() {
        return VolumeCapability.newBuilder().setBlock(VolumeCapability.BlockVolume.getDefaultInstance())
                .setAccessMode(VolumeCapability.AccessMode.newBuilder()
                        .setMode(VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER)).build();
    }

    CreateVolumeRequest create(String name, long bytes, VolumeCapability cap, Map<String, String> withSecrets) {
        return CreateVolumeRequest.newBuilder().setName(name).addVolumeCapabilities(cap).putAllParameters(params)
                .putAllSecrets(withSecrets).setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(bytes)).build();
    }

    String createVolume(String name, long bytes, VolumeCapability cap) {
        return controller(60).createVolume(create(name, bytes, cap, secrets)).getVolume().getVolumeId();
    }

    void deleteVolume(String id) {
        controller(60).deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id).putAllSecrets(secrets).build());
    }

    /**
     * DeleteVolume as the external-provisioner does it: "in use" (a watch a killed rbd-fuse left,
     * until the OSD drops it after 30 s) is retried.
     */
    void deleteVolumeEventually(String id, java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                deleteVolume(id);
                return;
            } catch (io.grpc.StatusRuntimeException e) {
                if (e.getStatus().getCode() != io.grpc.Status.Code.FAILED_PRECONDITION
                        || !String.valueOf(e.getStatus().getDescription()).contains("in use")
                        || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(1000);
            }
        }
    }

    /** Threads of a process now ({@code Threads:} of /proc/PID/status): Java and native ones. */
    static int threads(long pid) throws java.io.IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"));
        for (String l : lines) {
            if (l.startsWith("Threads:")) {
                return Integer.parseInt(l.substring(8).strip());
            }
        }
        throw new java.io.IOException("no Threads line for " + pid);
    }

    /** Threads of a process besides the gRPC handler pool (bounded by design; it fills with any calls). */
    static int threadsBesidesHandlers(long pid) throws java.io.IOException {
        int n = 0;
        for (java.util.Map.Entry<String, Integer> e : threadNames(pid).entrySet()) {
            if (!e.getKey().startsWith("nodekit-grpc")) {
                n += e.getValue();
            }
        }
        return n;
    }

    /** Thread names of a process, counted ({@code /proc/PID/task/N/comm}), for messages. */
    static java.util.Map<String, Integer> threadNames(long pid) throws java.io.IOException {
        java.util.Map<String, Integer> out = new java.util.TreeMap<>();
        try (var s = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : s.toList()) {
                try {
                    out.merge(Files.readString(t.resolve("comm")).strip().replaceAll("[0-9]+$", "N"), 1, Integer::sum);
                } catch (java.io.IOException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return out;
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}
