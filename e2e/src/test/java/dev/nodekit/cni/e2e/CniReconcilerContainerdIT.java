package dev.nodekit.cni.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import dev.nodekit.bench.cni.CniDaemonProcess;
import dev.nodekit.cni.gc.CniGcCommand;
import dev.nodekit.cni.install.CniInstaller;
import dev.nodekit.cni.install.InstallSpec;
import dev.nodekit.cni.launch.LeanCommandRunner;
import dev.nodekit.cni.net.IpMasq;
import dev.nodekit.cni.net.IpNetwork;
import dev.nodekit.common.Requirement;
import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.ProcessCommandRunner;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.e2e.containerd.ContainerdFixture;
import dev.nodekit.spec.cri.v1.LinuxPodSandboxConfig;
import dev.nodekit.spec.cri.v1.ListPodSandboxRequest;
import dev.nodekit.spec.cri.v1.PodSandboxConfig;
import dev.nodekit.spec.cri.v1.PodSandboxMetadata;
import dev.nodekit.spec.cri.v1.RunPodSandboxRequest;
import dev.nodekit.spec.cri.v1.RuntimeServiceGrpc;
import io.grpc.ManagedChannel;
import picocli.CommandLine;

/**
 * The leak reconciler against a real containerd 1.6 whose CNI is nodekit's (thin clients in its bin
 * dir, the daemon up): three pods, one killed behind the runtime's back but still known to it, one
 * whose every record containerd loses (its DEL will never come), plus fabricated leaked allocation
 * files, one old and one fresh. {@code nodekit cni gc} releases exactly the lost pod's and the old
 * fabricated allocations (and their masquerade chains); the daemon's periodic reconcile does the same
 * for a leak made while it runs.
 */
@Requires({Requirement.ROOT, Requirement.CONTAINERD, Requirement.NETNS, Requirement.IPTABLES, Requirement.C_COMPILER})
class CniReconcilerContainerdIT {
    static final SecureRandom RANDOM = new SecureRandom();

    String id;
    Path dir;
    Path bin;
    Path conf;
    Path ipam;
    String network;
    String bridge;
    IpMasq masq = new IpMasq(new LeanCommandRunner(), Duration.ofSeconds(10));

    @Test
    void reclaimsExactlyTheAllocationsOfSandboxesTheRuntimeDoesNotKnow() throws Exception {
        byte[] b = new byte[3];
        RANDOM.nextBytes(b);
        id = HexFormat.of().formatHex(b);
        dir = Files.createTempDirectory("nkgc-" + id + "-");
        Path socketDir = Path.of("/run/nkgc-" + id);
        Path socket = socketDir.resolve("cni.sock");
        bin = dir.resolve("bin");
        conf = Files.createDirectories(dir.resolve("net.d"));
        ipam = dir.resolve("ipam");
        network = "nkgc" + id;
        bridge = "nkgc" + id;
        String subnet = freeSubnet();
        String prefix = subnet.substring(0, subnet.lastIndexOf('.') + 1);
        new CniInstaller(new LeanCommandRunner(), Duration.ofMinutes(5)).install(InstallSpec.builder(bin,
                dir.resolve("unused"), dir.resolve("lib"), Path.of(System.getProperty("java.home"), "bin", "java"))
                .archive(false).client(InstallSpec.ClientMode.THIN).daemonSocket(socket).build());
        Files.writeString(conf.resolve("10-" + network + ".conflist"), """
                {"cniVersion":"1.0.0","name":"%s","plugins":[{"type":"nodekit-bridge","bridge":"%s","isGateway":true,
                 "ipMasq":true,"ipam":{"type":"nodekit-host-local","ranges":[[{"subnet":"%s"}]],"dataDir":"%s"}}]}
                """.formatted(network, bridge, subnet, ipam));
        CniDaemonProcess daemon = CniDaemonProcess.start(socket, dir.resolve("daemon.log"), Duration.ofMinutes(2));
        ContainerdFixture f = null;
        List<String> fabricated = List.of("leaked-old", "leaked-fresh", "leaked-later");
        try {
            f = ContainerdFixture.start(ContainerdFixture.Options.defaults().withCniBinDir(bin).withCniConfDir(conf));
            String live = runPod(f, "live");
            String stopped = runPod(f, "stopped");
            String lost = runPod(f, "lost");
            Path net = ipam.resolve(network);
            assertThat(owners(net)).containsExactlyInAnyOrder(live, stopped, lost);
            assertThat(masq.containerIds(network, 4)).containsExactlyInAnyOrder(live, stopped, lost);

            // "stopped": its pause process killed behind the runtime's back; containerd still knows the sandbox.
            ctr(f, "tasks", "kill", "--signal", "SIGKILL", stopped);
            // "lost": containerd loses every record of it, as after a wiped state dir: no DEL will ever come.
            ctr(f, "tasks", "kill", "--signal", "SIGKILL", lost);
            waitForTaskExit(f, lost);
            // CRI deletes an exited sandbox's task itself; whichever of us is first.
            CommandResult del = ContainerdFixture.ctr(f.socket(), "-n", "k8s.io", "tasks", "delete", lost);
            assertThat(del.exitCode() == 0 || del.stderr().contains("not found")).as("%s", del.stderr()).isTrue();
            ctr(f, "containers", "delete", lost);
            f.killDaemon();
            f.restartDaemon();
            assertThat(podIds(f)).containsExactlyInAnyOrder(live, stopped);
            // Its allocation is an hour old by now (the grace protects young ones: see "leaked-fresh").
            String lostIp = ipOf(net, lost);
            age(net.resolve(lostIp), Duration.ofHours(1));
            String oldIp = prefix + "200";
            String freshIp = prefix + "201";
            Files.writeString(net.resolve(oldIp), "leaked-old\r\neth0");
            age(net.resolve(oldIp), Duration.ofHours(1));
            masq.setup(IpMasq.chainName(network, "leaked-old"), IpMasq.comment(network, "leaked-old"),
                    List.of(IpNetwork.parse(oldIp + "/24")));
            Files.writeString(net.resolve(freshIp), "leaked-fresh\r\neth0");

            String dry = gc(f, "--dry-run");
            assertThat(dry).contains("would release " + lostIp).contains("would release " + oldIp)
                    .contains("kept " + freshIp).contains("dry run:");
            assertThat(owners(net)).hasSize(5);

            String out = gc(f);
            assertThat(out).contains("released " + lostIp + " (owner " + lost + "/eth0)")
                    .contains("released " + oldIp + " (owner leaked-old/eth0)");
            assertThat(owners(net)).containsExactlyInAnyOrder(live, stopped, "leaked-fresh");
            assertThat(masq.containerIds(network, 4)).containsExactlyInAnyOrder(live, stopped);

            // The daemon's periodic reconcile: a leak made while it runs is gone within its interval.
            daemon.stop(Duration.ofSeconds(40));
            daemon = CniDaemonProcess.start(socket, dir.resolve("daemon.log"), Duration.ofMinutes(2), "--cri-endpoint",
                    f.endpoint(), "--conf-dir", conf.toString(), "--gc-interval", "2s", "--gc-grace", "10m");
            String laterIp = prefix + "202";
            Files.writeString(net.resolve(laterIp), "leaked-later\r\neth0");
            age(net.resolve(laterIp), Duration.ofHours(2));
            // Gone within the interval; the pass logs its summary after the last release (and its
            // iptables work), a moment later.
            CniDaemonProcess reconciling = daemon;
            Awaitility.await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                    assertThat(net.resolve(laterIp)).as("reclaimed by the daemon: %s", reconciling.logTail()).doesNotExist());
            Awaitility.await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).untilAsserted(() ->
                    assertThat(reconciling.logLines()).as(reconciling.logTail())
                            .anyMatch(l -> l.contains("CNI leak reconcile done")));
            assertThat(owners(net)).containsExactlyInAnyOrder(live, stopped, "leaked-fresh");
        } finally {
            List<String> problems = new ArrayList<>();
            if (f != null) {
                try {
                    f.close();
                } catch (RuntimeException e) {
                    problems.add("containerd fixture: " + e.getMessage());
                }
            }
            daemon.stop(Duration.ofSeconds(40));
            for (String leaked : fabricated) {
                for (int fam : new int[] {4, 6}) {
                    try {
                        masq.teardown(IpMasq.chainName(network, leaked), fam);
                    } catch (Exception e) {
                        problems.add("chain of " + leaked + ": " + e.getMessage());
                    }
                }
            }
            new ProcessCommandRunner().run(Command.of("ip", "link", "del", bridge));
            Files.deleteIfExists(socket);
            Files.deleteIfExists(socketDir);
            CniHost.deleteTree(dir);
            assertThat(problems).isEmpty();
        }
    }

    String gc(ContainerdFixture f, String... extra) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> args = new ArrayList<>(List.of("--cri-endpoint", f.endpoint(), "--conf-dir", conf.toString()));
        args.addAll(List.of(extra));
        int code = new CommandLine(new CniGcCommand()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute(args.toArray(String[]::new));
        assertThat(code).as("gc: %s %s", out, err).isZero();
        return out.toString();
    }

    static String runPod(ContainerdFixture f, String name) {
        ManagedChannel ch = f.openChannel();
        try {
            String uid = UUID.randomUUID().toString();
            PodSandboxConfig cfg = PodSandboxConfig.newBuilder()
                    .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setUid(uid).setNamespace("nodekit-gc-it"))
                    .setHostname(name).setLogDirectory(f.podLogRoot().resolve(uid).toString())
                    .setLinux(LinuxPodSandboxConfig.newBuilder().setCgroupParent(f.cgroupParent() + "/pod" + uid)).build();
            return RuntimeServiceGrpc.newBlockingStub(ch).withDeadlineAfter(120, TimeUnit.SECONDS)
                    .runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(cfg).build()).getPodSandboxId();
        } finally {
            ch.shutdownNow();
        }
    }

    static List<String> podIds(ContainerdFixture f) {
        ManagedChannel ch = f.openChannel();
        try {
            return RuntimeServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList().stream().map(p -> p.getId())
                    .toList();
        } finally {
            ch.shutdownNow();
        }
    }

    static CommandResult ctr(ContainerdFixture f, String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("-n", "k8s.io"));
        argv.addAll(List.of(args));
        CommandResult r = ContainerdFixture.ctr(f.socket(), argv.toArray(String[]::new));
        assertThat(r.exitCode()).as("%s: %s", r.argv(), r.stderr()).isZero();
        return r;
    }

    static void waitForTaskExit(ContainerdFixture f, String task) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String list = ctr(f, "tasks", "list").stdout();
            boolean running = list.lines().anyMatch(l -> l.startsWith(task) && l.contains("RUNNING"));
            if (!running) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("task " + task + " still running");
    }

    /** Owners (container ids) of the allocation files in {@code net}. */
    static List<String> owners(Path net) throws Exception {
        List<String> out = new ArrayList<>();
        try (var s = Files.list(net)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.getFileName().toString().matches("\\d+\\.\\d+\\.\\d+\\.\\d+")) {
                    out.add(Files.readString(p).split("\r\n")[0]);
                }
            }
        }
        return out;
    }

    static String ipOf(Path net, String owner) throws Exception {
        try (var s = Files.list(net)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.getFileName().toString().matches("\\d+\\.\\d+\\.\\d+\\.\\d+")
                        && Files.readString(p).startsWith(owner + "\r\n")) {
                    return p.getFileName().toString();
                }
            }
        }
        throw new AssertionError("no allocation of " + owner + " in " + net);
    }

    static void age(Path p, Duration d) throws Exception {
        Files.setLastModifiedTime(p, FileTime.from(Instant.now().minus(d)));
    }

    static String freeSubnet() throws Exception {
        String routes = CniHost.sh("ip", "-4", "route", "show", "table", "all").out() + CniHost.sh("ip", "-4", "addr").out();
        for (int i = 0; i < 200; i++) {
            String prefix = "10." + (200 + RANDOM.nextInt(50)) + "." + RANDOM.nextInt(256) + ".";
            if (!routes.contains(prefix)) {
                return prefix + "0/24";
            }
        }
        throw new IllegalStateException("no free subnet");
    }
}

