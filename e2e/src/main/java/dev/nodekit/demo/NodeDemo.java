package dev.nodekit.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.nodekit.cni.install.CniInstaller;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.demo.Narrator.Cancelled;
import dev.nodekit.demo.Narrator.Line;
import dev.nodekit.demo.Narrator.StepFailed;
import dev.nodekit.e2e.containerd.ContainerdFixture;
import dev.nodekit.e2e.node.Footprint;
import dev.nodekit.e2e.node.Kubelet;
import dev.nodekit.e2e.node.LocalNode;
import dev.nodekit.e2e.node.NetnsPods;
import dev.nodekit.e2e.node.RunMarks;
import dev.nodekit.spec.cri.v1.ContainerState;
import dev.nodekit.spec.cri.v1.ExecSyncResponse;

/**
 * The demo's two flows on one {@link LocalNode}: with containerd (kubelet's order: volume staged
 * and published, pod run through the shim, container with the volume, a second pod reaching the
 * first, everything undone, the data read back after a re-stage) and without it (the CNI part on
 * plain network namespaces, the CSI part on its own). Each step checks what it claims; a claim
 * that does not hold fails the step.
 */
final class NodeDemo {
    static final long VOLUME_BYTES = 64L << 20;
    static final String PVC = "pvc-demo";
    private static final Duration POLL = Duration.ofSeconds(20);

    private final LocalNode node;
    private final Narrator say;
    private final String message;
    private Kubelet kubelet;
    private Kubelet.Volume volume;
    private String webUid;
    private Kubelet.Pod web;
    private Kubelet.Pod client;
    private String webContainer;
    private String clientContainer;
    private NetnsPods.NetnsPod podA;
    private NetnsPods.NetnsPod podB;

    NodeDemo(LocalNode node, Narrator say) {
        this.node = node;
        this.say = say;
        this.message = "hello from pod web, run " + node.marks().runId();
    }

    // ---------------------------------------------------------------------------------------- with containerd

    void withContainerd() throws Cancelled, StepFailed {
        RunMarks m = node.marks();
        installCni();
        say.step("start containerd", () -> {
            ContainerdFixture c = node.startContainerd();
            return new Line("started a private containerd (pid " + c.pid() + ", images built from busybox-static, "
                    + "nothing pulled)", "a real runtime whose CNI dirs are nodekit's");
        });
        say.step("start the CRI shim", () -> {
            node.startShim();
            return new Line("started the CRI shim on " + m.runDir().relativize(m.shimSocket()) + " in front of containerd",
                    "kubelet's runtime endpoint is nodekit's proxy; every CRI call below goes through it");
        });
        startCsi();
        createVolume();
        stage();
        say.step("NodePublishVolume", () -> {
            webUid = Kubelet.newPodUid();
            Path target = kubelet.publish(volume, webUid);
            return new Line("NodePublishVolume into pod web's volume dir (pods/" + webUid.substring(0, 8)
                    + ".../" + PVC + "/mount)", "kubelet mounts volumes before it asks for the pod; bind of the staged fs"
                    + (Files.isDirectory(target) ? "" : " (MISSING)"));
        });
        say.step("RunPodSandbox web", () -> {
            web = kubelet.runPod("web", webUid);
            checkAllocated(web.ip(), web.id());
            List<String> ports = node.bridgePorts();
            node.masqueradeChains();
            return new Line("RunPodSandbox web through the shim: IP " + web.ip() + ", " + String.join(",", ports)
                    + " on bridge " + m.bridge(), "containerd ran nodekit-bridge; nodekit-host-local recorded "
                    + web.ip() + " in its IPAM dir");
        });
        say.step("start container web", () -> {
            Path target = kubelet.publishPath(volume, webUid);
            webContainer = kubelet.startContainer(web, "web", "trap 'exit 0' TERM; echo \"$MESSAGE\" > /data/hello.txt"
                    + " && sync && httpd -f -p 8080 -h /data & wait", Map.of("MESSAGE", message), Optional.of(target),
                    "/data");
            awaitRunning(webContainer);
            return new Line("CreateContainer + StartContainer web: busybox writes /data/hello.txt, then serves /data "
                    + "on :8080", "the container runs with the CSI volume mounted at /data");
        });
        say.step("read the container's file on the host", () -> {
            Path file = kubelet.publishPath(volume, webUid).resolve("hello.txt");
            String text = awaitFile(file);
            expect(text.equals(message), "hello.txt holds '" + text + "', expected '" + message + "'");
            return new Line("read hello.txt on the host from the volume: '" + text + "'",
                    "the container's write landed on the CSI volume");
        });
        say.step("RunPodSandbox client", () -> {
            client = kubelet.runPod("client", Kubelet.newPodUid());
            checkAllocated(client.ip(), client.id());
            expect(!client.ip().equals(web.ip()), "both pods got " + web.ip());
            clientContainer = kubelet.startContainer(client, "client", "trap 'exit 0' TERM; sleep 3600 & wait",
                    Map.of(), Optional.empty(), "");
            awaitRunning(clientContainer);
            node.bridgePorts();
            node.masqueradeChains();
            return new Line("RunPodSandbox client + a busybox container: IP " + client.ip() + " on the same bridge",
                    "a second address from the same IPAM, no conflict");
        });
        say.step("pod to pod", () -> {
            String url = "http://" + web.ip() + ":8080/hello.txt";
            String got = awaitWget(clientContainer, url);
            expect(got.equals(message), "wget got '" + got + "'");
            return new Line("client: wget " + url + " -> '" + got + "'",
                    "pod-to-pod traffic over nodekit's bridge, serving data from the CSI volume");
        });
        say.step("remove pods", () -> {
            kubelet.stopAndRemoveContainer(clientContainer, Duration.ofSeconds(10));
            kubelet.stopAndRemoveContainer(webContainer, Duration.ofSeconds(10));
            kubelet.stopAndRemovePod(client);
            kubelet.stopAndRemovePod(web);
            Footprint left = node.footprint().only(Footprint.Kind.podNetworking());
            expect(left.isClean(), "left after the pods were removed: " + left);
            return new Line("StopContainer, RemoveContainer, StopPodSandbox, RemovePodSandbox for both pods",
                    "CNI DEL ran: no IPAM file, veth or masquerade rule of the pods is left");
        });
        unpublishUnstage(true);
        restageAndRead();
        deleteVolume();
        teardown();
    }

    // ---------------------------------------------------------------------------------------- without containerd

    void withoutContainerd() throws Cancelled, StepFailed {
        RunMarks m = node.marks();
        NetnsPods pods = node.netnsPods();
        installCni();
        say.step("ADD netns a", () -> {
            podA = pods.add(m.netnsNames().get(0));
            checkAllocated(podA.ip(), podA.netns());
            List<String> ports = node.bridgePorts();
            node.masqueradeChains();
            return new Line("network namespace " + podA.netns() + ": loopback + nodekit-bridge ADD -> IP " + podA.ip()
                    + ", " + String.join(",", ports) + " on " + m.bridge(), "what containerd does for each pod; "
                    + "nodekit-host-local recorded " + podA.ip());
        });
        say.step("ADD netns b", () -> {
            podB = pods.add(m.netnsNames().get(1));
            checkAllocated(podB.ip(), podB.netns());
            expect(!podB.ip().equals(podA.ip()), "both namespaces got " + podA.ip());
            node.bridgePorts();
            node.masqueradeChains();
            return new Line("network namespace " + podB.netns() + ": IP " + podB.ip() + " on the same bridge",
                    "a second address from the same IPAM, no conflict");
        });
        say.step("ping", () -> {
            CommandResult r = pods.ping(podB, podA.ip());
            expect(r.succeeded(), "ping " + podA.ip() + " from " + podB.netns() + " failed: " + r.stdout() + r.stderr());
            return new Line("ping " + podA.ip() + " from " + podB.netns() + ": " + rtt(r.stdout()),
                    "namespace-to-namespace traffic over nodekit's bridge");
        });
        say.step("DEL both", () -> {
            pods.remove(podB);
            pods.remove(podA);
            Footprint left = node.footprint().only(Footprint.Kind.podNetworking());
            expect(left.isClean(), "left after DEL: " + left);
            return new Line("nodekit-bridge DEL for both namespaces, namespaces deleted",
                    "no IPAM file, veth or masquerade rule is left");
        });
        startCsi();
        createVolume();
        stage();
        say.step("NodePublishVolume", () -> {
            webUid = Kubelet.newPodUid();
            Path target = kubelet.publish(volume, webUid);
            Files.writeString(target.resolve("hello.txt"), message);
            String viaStaging = Files.readString(kubelet.stagingPath(volume).resolve("hello.txt")).strip();
            expect(viaStaging.equals(message), "staging path reads '" + viaStaging + "'");
            return new Line("NodePublishVolume into a pod's volume dir; wrote hello.txt there as a pod would",
                    "the pod's dir is a bind of the staged filesystem (the file reads back through globalmount)");
        });
        unpublishUnstage(false);
        restageAndRead();
        deleteVolume();
        teardown();
    }

    // ---------------------------------------------------------------------------------------- shared steps

    private void installCni() throws Cancelled, StepFailed {
        say.step("install the CNI plugins", () -> {
            CniInstaller.Report r = node.installCni();
            return new Line("installed nodekit-bridge, nodekit-host-local and loopback (nodekit cni install, "
                    + (r.archive().isPresent() ? "class-data archive, " : "") + "subnet " + node.subnet() + ")",
                    "the runtime's CNI bin and conf dirs now hold nodekit's plugins and conflist");
        });
    }

    private void startCsi() throws Cancelled, StepFailed {
        say.step("start the CSI driver", () -> {
            node.startCsi();
            kubelet = node.kubelet();
            return new Line("started the CSI driver " + kubelet.driverName() + " (embedded local backend)",
                    "a storage driver that needs no storage cluster answers Probe ready");
        });
    }

    private void createVolume() throws Cancelled, StepFailed {
        say.step("CreateVolume", () -> {
            volume = kubelet.createVolume(PVC, VOLUME_BYTES);
            return new Line("CreateVolume " + PVC + ": " + (volume.bytes() >> 20) + " MiB",
                    "the provisioner's call: a sparse image in the driver's data dir");
        });
    }

    private void stage() throws Cancelled, StepFailed {
        say.step("NodeStageVolume", () -> {
            Path staging = kubelet.stage(volume);
            Footprint f = node.footprint();
            String loop = f.findings().stream().filter(x -> x.kind() == Footprint.Kind.LOOP_DEVICE)
                    .map(x -> x.what().split(" ")[0]).findFirst().orElse("no loop device");
            expect(Files.isDirectory(staging.resolve("lost+found")), "no ext4 at " + staging);
            return new Line("NodeStageVolume: " + loop + ", ext4, mounted at kubelet's globalmount",
                    "the node attached and formatted the volume once, for every pod that uses it");
        });
    }

    private void unpublishUnstage(boolean podsGone) throws Cancelled, StepFailed {
        say.step("NodeUnpublishVolume + NodeUnstageVolume", () -> {
            kubelet.unpublish(volume, webUid);
            kubelet.unstage(volume);
            Footprint f = node.footprint().only(EnumSet.of(Footprint.Kind.MOUNT, Footprint.Kind.LOOP_DEVICE));
            List<Footprint.Finding> volumeLeft = f.findings().stream()
                    .filter(x -> x.kind() == Footprint.Kind.LOOP_DEVICE || x.what().startsWith(
                            node.marks().kubeletDir().toString())).toList();
            expect(volumeLeft.isEmpty(), "left after unstage: " + volumeLeft);
            return new Line("NodeUnpublishVolume + NodeUnstageVolume" + (podsGone ? " (after the pods)" : ""),
                    "volume unmounted and its loop device detached");
        });
    }

    private void restageAndRead() throws Cancelled, StepFailed {
        say.step("re-stage and read", () -> {
            Path staging = kubelet.stage(volume);
            String text = Files.readString(staging.resolve("hello.txt")).strip();
            kubelet.unstage(volume);
            expect(text.equals(message), "after re-stage hello.txt holds '" + text + "'");
            return new Line("NodeStageVolume again: hello.txt reads '" + text + "'; unstaged",
                    "the data outlived unstage: it is on the volume, not in a pod or a mount");
        });
    }

    private void deleteVolume() throws Cancelled, StepFailed {
        say.step("DeleteVolume", () -> {
            kubelet.deleteVolume(volume);
            return new Line("DeleteVolume " + PVC, "the image is removed from the driver's data dir");
        });
    }

    private void teardown() throws Cancelled, StepFailed {
        say.step("tear down and check", () -> {
            node.close();
            Footprint f = node.footprint();
            expect(f.isClean(), "left on the host: " + f);
            return new Line("stopped " + (node.containerdStarted() ? "the CRI shim, containerd and " : "")
                    + "the CSI driver, removed the run dir", "nothing of this run is left: no mount, loop device, veth, "
                    + "IPAM file, iptables rule, netns or process");
        });
    }

    // ---------------------------------------------------------------------------------------- checks

    /** host-local's allocation file for {@code ip} exists and names {@code owner} (the container id). */
    private void checkAllocated(String ip, String owner) throws IOException, DemoCheckFailed {
        Path f = node.marks().ipamNetworkDir().resolve(ip);
        expect(Files.isRegularFile(f), "no IPAM file " + f);
        String first = Files.readString(f).lines().findFirst().orElse("").strip();
        expect(first.equals(owner), "IPAM file " + f + " names '" + first + "', expected '" + owner + "'");
    }

    private void awaitRunning(String containerId) throws DemoCheckFailed {
        long end = System.nanoTime() + POLL.toNanos();
        ContainerState s;
        while ((s = kubelet.containerState(containerId)) != ContainerState.CONTAINER_RUNNING) {
            expect(System.nanoTime() < end && s != ContainerState.CONTAINER_EXITED,
                    "container " + containerId + " is " + s + ", not running");
            pause();
        }
    }

    private static String awaitFile(Path file) throws IOException, DemoCheckFailed {
        long end = System.nanoTime() + POLL.toNanos();
        while (!Files.isRegularFile(file) || Files.size(file) == 0) {
            expect(System.nanoTime() < end, file + " did not appear within " + POLL.toSeconds() + " s");
            pause();
        }
        return Files.readString(file).strip();
    }

    /** wget from the client until httpd answers (it starts a moment after its container). */
    private String awaitWget(String containerId, String url) throws DemoCheckFailed {
        long end = System.nanoTime() + POLL.toNanos();
        while (true) {
            // No "-T": Debian's busybox-static wget crashes (SIGSEGV) with it; ExecSync's timeout bounds the call.
            ExecSyncResponse r = kubelet.exec(containerId, Duration.ofSeconds(10), "wget", "-q", "-O", "-", url);
            if (r.getExitCode() == 0) {
                return r.getStdout().toStringUtf8().strip();
            }
            expect(System.nanoTime() < end, "wget " + url + " exited " + r.getExitCode() + " "
                    + r.getStderr().toStringUtf8().strip() + "; " + diagnose());
            pause();
        }
    }

    /** Why the client may not reach web: ping from the client, the web container's processes. */
    private String diagnose() {
        StringBuilder b = new StringBuilder();
        try {
            ExecSyncResponse ping = kubelet.exec(clientContainer, Duration.ofSeconds(5), "ping", "-c", "1", "-W", "2",
                    web.ip());
            b.append("ping from client exited ").append(ping.getExitCode()).append(": ")
                    .append(ping.getStdout().toStringUtf8().strip().replace('\n', ' '));
            ExecSyncResponse ps = kubelet.exec(webContainer, Duration.ofSeconds(5), "ps");
            b.append("; processes in web: ").append(ps.getStdout().toStringUtf8().strip().replace('\n', ' '));
        } catch (RuntimeException e) {
            b.append("(diagnosis failed: ").append(e.getMessage()).append(')');
        }
        return b.toString();
    }

    /** "time=0.08 ms" from ping's output, or the whole first reply line. */
    static String rtt(String pingOutput) {
        for (String line : pingOutput.split("\n")) {
            int i = line.indexOf("time=");
            if (i >= 0) {
                return "reply " + line.substring(i).strip();
            }
        }
        return "reply";
    }

    private static void expect(boolean ok, String what) throws DemoCheckFailed {
        if (!ok) {
            throw new DemoCheckFailed(what);
        }
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What a step claims does not hold. */
    static final class DemoCheckFailed extends Exception {
        private static final long serialVersionUID = 1L;

        DemoCheckFailed(String message) {
            super(message);
        }
    }
}
