package dev.nodekit.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.spec.cri.v1.ContainerConfig;
import dev.nodekit.spec.cri.v1.ContainerMetadata;
import dev.nodekit.spec.cri.v1.CreateContainerRequest;
import dev.nodekit.spec.cri.v1.ImageSpec;
import dev.nodekit.spec.cri.v1.ImageStatusRequest;
import dev.nodekit.spec.cri.v1.LinuxPodSandboxConfig;
import dev.nodekit.spec.cri.v1.LinuxSandboxSecurityContext;
import dev.nodekit.spec.cri.v1.ListContainersRequest;
import dev.nodekit.spec.cri.v1.NamespaceMode;
import dev.nodekit.spec.cri.v1.NamespaceOption;
import dev.nodekit.spec.cri.v1.PodSandboxConfig;
import dev.nodekit.spec.cri.v1.PodSandboxMetadata;
import dev.nodekit.spec.cri.v1.RemovePodSandboxRequest;
import dev.nodekit.spec.cri.v1.RunPodSandboxRequest;
import dev.nodekit.spec.cri.v1.RuntimeServiceGrpc;
import dev.nodekit.spec.cri.v1.StartContainerRequest;
import dev.nodekit.spec.cri.v1.StopPodSandboxRequest;
import dev.nodekit.spec.cri.v1.VersionRequest;
import io.grpc.ManagedChannel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code nodekit bench cri-shim}: the cost of the CRI shim, measured against the same containerd
 * directly in one run. It starts a pod (host network, so no CNI) with {@code --containers} running
 * busybox containers on the runtime, starts {@code nodekit cri-shim} as its own process in front of
 * it (default chain: metrics only, every call relayed as HTTP/2 frames), and a second one with
 * {@code passThrough: grpc} (every call through grpc-java, the shim's first design), and measures:
 * <ul>
 *   <li>Version and ListContainers latency, direct and through both shims, in rounds of rotating
 *       order so drift on a shared machine hits all alike; p50/p99 and the added latency;</li>
 *   <li>throughput with {@code --callers} concurrent callers, direct and through the shim, and the
 *       shim's CPU time per call (utime+stime of its process over that phase, from /proc);</li>
 *   <li>with socat installed, the same latencies through {@code socat} copying bytes between the
 *       sockets: what any proxy costs on this machine under its current load ({@code relay_*});</li>
 *   <li>the shim's RSS and peak RSS, its cold start and its restart after kill -9 (median of three,
 *       without and with the AppCDS archive the systemd unit uses), each to the first Version
 *       answered through it.</li>
 * </ul>
 * Everything it created on the runtime is removed at the end. The image must be present (never pulled).
 */
@Command(name = "cri-shim", mixinStandardHelpOptions = true,
        description = "CRI shim overhead vs the runtime directly (Version, ListContainers with N running containers), "
                + "passThrough: frames and grpc in the same run.")
public final class CriShimBench implements Callable<Integer> {
    @Option(names = "--upstream", required = true, paramLabel = "ENDPOINT",
            description = "The runtime, e.g. unix:///run/containerd/containerd.sock.")
    String upstream;

    @Option(names = "--image", paramLabel = "REF", description = "Image with sleep, present on the runtime (default: ${DEFAULT-VALUE}).")
    String image = "localhost/busybox:1";

    @Option(names = "--containers", description = "Running containers during the measurements (default: ${DEFAULT-VALUE}).")
    int containers = 100;

    @Option(names = "--rounds", description = "Alternating direct/shim rounds (default: ${DEFAULT-VALUE}).")
    int rounds = 10;

    @Option(names = "--version-calls", description = "Version calls per target per round (default: ${DEFAULT-VALUE}).")
    int versionCalls = 300;

    @Option(names = "--list-calls", description = "ListContainers calls per target per round (default: ${DEFAULT-VALUE}).")
    int listCalls = 100;

    @Option(names = "--warmup-calls", description = "Version calls per target before measuring, and a quarter as many "
            + "ListContainers: the shim runs for days, and its JIT settles after some 10-20k calls (default: ${DEFAULT-VALUE}).")
    int warmupCalls = 20_000;

    @Option(names = "--callers", description = "Concurrent callers in the throughput phase (default: ${DEFAULT-VALUE}).")
    int callers = 16;

    @Option(names = "--throughput-seconds", description = "Length of each throughput phase (default: ${DEFAULT-VALUE}).")
    int throughputSeconds = 4;

    @Option(names = "--results", paramLabel = "DIR", description = "Results directory (default: bench/results).")
    Path results;

    private String createdPod;

    @Override
    public Integer call() throws Exception {
        Path work = Files.createTempDirectory("nk-crishim-bench-");
        String id = work.getFileName().toString().replaceAll("[^A-Za-z0-9]", "").toLowerCase(Locale.ROOT);
        id = id.substring(Math.max(0, id.length() - 8));
        String cgroupParent = "/nodekit-bench-" + id;
        Path shimSocket = work.resolve("shim.sock");
        ManagedChannel direct = UdsChannels.forTarget(upstream);
        ShimProcess shim = null;
        ShimProcess grpcShim = null;
        Process relay = null;
        try {
            var d = RuntimeServiceGrpc.newBlockingStub(direct);
            var v = d.withDeadlineAfter(10, TimeUnit.SECONDS).version(VersionRequest.getDefaultInstance());
            boolean present = dev.nodekit.spec.cri.v1.ImageServiceGrpc.newBlockingStub(direct)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .imageStatus(ImageStatusRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(image)).build())
                    .hasImage();
            if (!present) {
                System.err.println("nodekit bench cri-shim: image " + image + " is not on the runtime (it is never pulled)");
                return 2;
            }
            System.out.printf("runtime %s %s; starting %d containers...%n", v.getRuntimeName(), v.getRuntimeVersion(),
                    containers);
            startWorkload(d, work, cgroupParent, id);
            int listed = d.listContainers(ListContainersRequest.getDefaultInstance()).getContainersCount();
            int listBytes = d.listContainers(ListContainersRequest.getDefaultInstance()).getSerializedSize();

            long t0 = System.nanoTime();
            shim = ShimProcess.start(shimSocket, upstream, work.resolve("shim.log"));
            double coldStartMs = shim.awaitServing(Duration.ofSeconds(60)) / 1e6;
            double coldSinceSpawnMs = (System.nanoTime() - t0) / 1e6;

            // Restarts before the load phases, while the machine is as calm as it gets in this run:
            // kill -9, start again, first Version answered; median of three, without and with AppCDS.
            System.out.println("kill -9 and restart, " + RESTARTS + " times without and with AppCDS...");
            List<Double> restarts = new ArrayList<>();
            List<Double> restartCpu = new ArrayList<>();
            for (int i = 0; i < RESTARTS; i++) {
                shim = restart(shim, shimSocket, work, Map.of(), restarts, restartCpu);
            }
            List<Double> cdsRestarts = new ArrayList<>();
            List<Double> cdsRestartCpu = new ArrayList<>();
            Optional<Path> archive = cdsArchive(work);
            if (archive.isPresent()) {
                Map<String, String> env = Map.of("JDK_JAVA_OPTIONS",
                        "-XX:SharedArchiveFile=" + archive.get() + " -Xshare:auto");
                for (int i = 0; i < RESTARTS; i++) {
                    shim = restart(shim, shimSocket, work, env, cdsRestarts, cdsRestartCpu);
                }
            }
            // The same shim with every call through grpc-java (passThrough: grpc), to compare in this run.
            Path grpcConfig = Files.writeString(work.resolve("grpc-mode.yaml"), "passThrough: grpc\n");
            Path grpcSocket = work.resolve("shim-grpc.sock");
            grpcShim = ShimProcess.start(grpcSocket, upstream, work.resolve("shim-grpc.log"), "--config",
                    grpcConfig.toString());
            grpcShim.awaitServing(Duration.ofSeconds(60));
            ManagedChannel viaShim = UdsChannels.forTarget("unix://" + shimSocket);
            ManagedChannel viaGrpcShim = UdsChannels.forTarget("unix://" + grpcSocket);
            var s = RuntimeServiceGrpc.newBlockingStub(viaShim);
            var g = RuntimeServiceGrpc.newBlockingStub(viaGrpcShim);
            List<RuntimeServiceGrpc.RuntimeServiceBlockingStub> targets = new ArrayList<>(List.of(d, s, g));
            // The floor of any proxy on this machine at this moment: socat copying bytes between the
            // sockets (no HTTP/2 at all), when installed. Same rounds, same client.
            Optional<Path> socat = dev.nodekit.common.exec.Executables.which("socat");
            ManagedChannel viaRelay = null;
            if (socat.isPresent()) {
                Path relaySocket = work.resolve("relay.sock");
                relay = new ProcessBuilder(socat.get().toString(), "UNIX-LISTEN:" + relaySocket + ",fork",
                        "UNIX-CONNECT:" + dev.nodekit.common.grpc.UdsChannels.socketPath(upstream))
                        .redirectErrorStream(true).redirectOutput(work.resolve("socat.log").toFile()).start();
                for (int i = 0; i < 100 && !Files.exists(relaySocket); i++) {
                    Thread.sleep(20);
                }
                viaRelay = UdsChannels.forTarget("unix://" + relaySocket);
                targets.add(RuntimeServiceGrpc.newBlockingStub(viaRelay));
            }

            // warm-up: JIT on all sides (C2 compiles the relay paths after ~10k calls), connections up
            for (int i = 0; i < warmupCalls; i++) {
                for (var t : targets) {
                    t.version(VersionRequest.getDefaultInstance());
                }
            }
            for (int i = 0; i < warmupCalls / 4; i++) {
                for (var t : targets) {
                    t.listContainers(ListContainersRequest.getDefaultInstance());
                }
            }
            System.out.println("measuring latency...");
            List<List<Long>> versions = new ArrayList<>();
            List<List<Long>> lists = new ArrayList<>();
            for (int i = 0; i < targets.size(); i++) {
                versions.add(new ArrayList<>());
                lists.add(new ArrayList<>());
            }
            for (int r = 0; r < rounds; r++) {
                // direct, frames, grpc in a rotating order, so drift on a shared machine hits all alike
                for (int k = 0; k < targets.size(); k++) {
                    int t = (r + k) % targets.size();
                    var stub = targets.get(t);
                    time(versions.get(t), versionCalls, () -> stub.version(VersionRequest.getDefaultInstance()));
                    time(lists.get(t), listCalls, () -> stub.listContainers(ListContainersRequest.getDefaultInstance()));
                }
            }
            LatencyStats versionDirect = LatencyStats.of(versions.get(0));
            LatencyStats versionShim = LatencyStats.of(versions.get(1));
            LatencyStats versionGrpc = LatencyStats.of(versions.get(2));
            LatencyStats listDirect = LatencyStats.of(lists.get(0));
            LatencyStats listShim = LatencyStats.of(lists.get(1));
            LatencyStats listGrpc = LatencyStats.of(lists.get(2));
            Optional<LatencyStats> versionRelay = viaRelay == null ? Optional.empty() : Optional.of(LatencyStats.of(versions.get(3)));
            Optional<LatencyStats> listRelay = viaRelay == null ? Optional.empty() : Optional.of(LatencyStats.of(lists.get(3)));
            if (viaRelay != null) {
                viaRelay.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }

            System.out.println("measuring throughput with " + callers + " callers...");
            double tvd = throughput(() -> d.version(VersionRequest.getDefaultInstance()), null).perSecond;
            Throughput tvs = throughput(() -> s.version(VersionRequest.getDefaultInstance()), shim);
            Throughput tvg = throughput(() -> g.version(VersionRequest.getDefaultInstance()), grpcShim);
            double tld = throughput(() -> d.listContainers(ListContainersRequest.getDefaultInstance()), null).perSecond;
            Throughput tls = throughput(() -> s.listContainers(ListContainersRequest.getDefaultInstance()), shim);
            Throughput tlg = throughput(() -> g.listContainers(ListContainersRequest.getDefaultInstance()), grpcShim);
            long rssKb = shim.statusKb("VmRSS");
            long hwmKb = shim.statusKb("VmHWM");
            long grpcRssKb = grpcShim.statusKb("VmRSS");
            viaShim.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            viaGrpcShim.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            BenchRecord.Builder b = BenchRecord.start("cri-shim")
                    .target("nodekit cri-shim (separate JVM, bin/nodekit defaults, chain [metrics], passThrough: frames; "
                            + "grpc_* figures: the same shim with passThrough: grpc, same run)")
                    .peer(v.getRuntimeName() + " " + v.getRuntimeVersion() + " directly, same client, same run")
                    .notes(String.format(Locale.ROOT, "%d containers listed (%d bytes per ListContainers answer); warm-up "
                            + "%d Version + %d ListContainers per target; %d rounds x (%d Version + %d ListContainers) per "
                            + "target, alternating order; throughput: %d callers x %d s per phase; client: grpc-java "
                            + "blocking stubs in the bench JVM.",
                            listed, listBytes, warmupCalls, warmupCalls / 4, rounds, versionCalls, listCalls, callers,
                            throughputSeconds))
                    .figure("containers_listed", listed)
                    .figure("list_response_bytes", listBytes)
                    .figure("version_direct_p50_ms", versionDirect.p50Ms())
                    .figure("version_direct_p99_ms", versionDirect.p99Ms())
                    .figure("version_shim_p50_ms", versionShim.p50Ms())
                    .figure("version_shim_p99_ms", versionShim.p99Ms())
                    .figure("version_added_p50_us", (versionShim.p50Ms() - versionDirect.p50Ms()) * 1000)
                    .figure("version_added_p99_us", (versionShim.p99Ms() - versionDirect.p99Ms()) * 1000)
                    .figure("list_direct_p50_ms", listDirect.p50Ms())
                    .figure("list_direct_p99_ms", listDirect.p99Ms())
                    .figure("list_shim_p50_ms", listShim.p50Ms())
                    .figure("list_shim_p99_ms", listShim.p99Ms())
                    .figure("list_added_p50_ms", listShim.p50Ms() - listDirect.p50Ms())
                    .figure("list_added_p99_ms", listShim.p99Ms() - listDirect.p99Ms())
                    .figure("version_direct_calls_per_s", tvd)
                    .figure("version_shim_calls_per_s", tvs.perSecond)
                    .figure("list_direct_calls_per_s", tld)
                    .figure("list_shim_calls_per_s", tls.perSecond)
                    .figure("grpc_version_added_p50_us", (versionGrpc.p50Ms() - versionDirect.p50Ms()) * 1000)
                    .figure("grpc_version_added_p99_us", (versionGrpc.p99Ms() - versionDirect.p99Ms()) * 1000)
                    .figure("grpc_list_added_p50_ms", listGrpc.p50Ms() - listDirect.p50Ms())
                    .figure("grpc_list_added_p99_ms", listGrpc.p99Ms() - listDirect.p99Ms())
                    .figure("grpc_version_calls_per_s", tvg.perSecond)
                    .figure("grpc_list_calls_per_s", tlg.perSecond)
                    .figure("grpc_shim_cpu_us_per_version", tvg.shimCpuMicrosPerCall)
                    .figure("grpc_shim_cpu_us_per_list", tlg.shimCpuMicrosPerCall)
                    .figure("grpc_shim_rss_mib", grpcRssKb / 1024.0)
                    .figure("shim_cpu_us_per_version", tvs.shimCpuMicrosPerCall)
                    .figure("shim_cpu_us_per_list", tls.shimCpuMicrosPerCall)
                    .figure("shim_rss_mib", rssKb / 1024.0)
                    .figure("shim_peak_rss_mib", hwmKb / 1024.0)
                    .figure("shim_cold_start_to_serving_ms", coldSinceSpawnMs)
                    .figure("shim_restart_after_kill9_to_serving_ms", median(restarts))
                    .figure("shim_restart_cpu_ms", median(restartCpu))
                    .ratio("version_p50", versionShim.p50Ms() / versionDirect.p50Ms())
                    .ratio("list_p50", listShim.p50Ms() / listDirect.p50Ms())
                    .ratio("version_throughput", tvs.perSecond / tvd)
                    .ratio("list_throughput", tls.perSecond / tld)
                    .ratio("grpc_version_throughput", tvg.perSecond / tvd)
                    .ratio("grpc_list_throughput", tlg.perSecond / tld)
                    .goal("version_added_p50_us", "<= 60")
                    .goal("list_added_p50_ms", "<= 0.4")
                    .goal("shim_restart_after_kill9_to_serving_ms", "< 1000");
            if (!cdsRestarts.isEmpty()) {
                b.figure("shim_restart_after_kill9_with_cds_to_serving_ms", median(cdsRestarts))
                        .figure("shim_restart_with_cds_cpu_ms", median(cdsRestartCpu))
                        .goal("shim_restart_after_kill9_with_cds_to_serving_ms", "< 1000 (the systemd unit's setup)");
            }
            if (versionRelay.isPresent()) {
                b.figure("relay_version_added_p50_us", (versionRelay.get().p50Ms() - versionDirect.p50Ms()) * 1000)
                        .figure("relay_list_added_p50_ms", listRelay.get().p50Ms() - listDirect.p50Ms());
            }
            BenchRecord rec = b.build();
            BenchStore store = results != null ? new BenchStore(results) : BenchStore.defaultStore();
            Path file = store.write(rec);
            System.out.printf(Locale.ROOT, "Version p50 direct %.3f ms, shim %.3f ms (+%.0f us); p99 %.3f / %.3f ms%n",
                    versionDirect.p50Ms(), versionShim.p50Ms(), (versionShim.p50Ms() - versionDirect.p50Ms()) * 1000,
                    versionDirect.p99Ms(), versionShim.p99Ms());
            System.out.printf(Locale.ROOT, "ListContainers(%d) p50 direct %.3f ms, shim %.3f ms (+%.3f ms); p99 %.3f / %.3f ms%n",
                    listed, listDirect.p50Ms(), listShim.p50Ms(), listShim.p50Ms() - listDirect.p50Ms(),
                    listDirect.p99Ms(), listShim.p99Ms());
            System.out.printf(Locale.ROOT, "throughput (%d callers) Version %.0f vs %.0f /s, List %.0f vs %.0f /s; "
                    + "shim CPU %.1f us/Version, %.1f us/List; RSS %.1f MiB (peak %.1f); cold start %.0f ms "
                    + "(serving %.0f ms after spawn); restart after kill -9 %.0f ms (%.0f ms CPU); %s%n",
                    callers, tvd, tvs.perSecond, tld, tls.perSecond, tvs.shimCpuMicrosPerCall, tls.shimCpuMicrosPerCall,
                    rssKb / 1024.0, hwmKb / 1024.0, coldStartMs, coldSinceSpawnMs, median(restarts), median(restartCpu),
                    cdsRestarts.isEmpty() ? "AppCDS not measured (run through bin/nodekit for the unit's helper)"
                            : String.format(Locale.ROOT, "with AppCDS %.0f ms (%.0f ms CPU)", median(cdsRestarts),
                                    median(cdsRestartCpu)));
            System.out.printf(Locale.ROOT, "passThrough: grpc: Version +%.0f us p50, +%.0f us p99; List +%.3f ms p50; "
                    + "throughput Version %.0f /s, List %.0f /s; CPU %.1f us/Version, %.1f us/List; RSS %.1f MiB%n",
                    (versionGrpc.p50Ms() - versionDirect.p50Ms()) * 1000, (versionGrpc.p99Ms() - versionDirect.p99Ms()) * 1000,
                    listGrpc.p50Ms() - listDirect.p50Ms(), tvg.perSecond, tlg.perSecond, tvg.shimCpuMicrosPerCall,
                    tlg.shimCpuMicrosPerCall, grpcRssKb / 1024.0);
            versionRelay.ifPresent(vr -> System.out.printf(Locale.ROOT,
                    "socat byte relay (floor of any proxy here, now): Version +%.0f us p50; List +%.3f ms p50%n",
                    (vr.p50Ms() - versionDirect.p50Ms()) * 1000, listRelay.get().p50Ms() - listDirect.p50Ms()));
            System.out.println("wrote " + file);
            return 0;
        } finally {
            if (shim != null) {
                shim.stop();
            }
            if (grpcShim != null) {
                grpcShim.stop();
            }
            if (relay != null) {
                relay.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            if (createdPod != null) {
                removeWorkload(RuntimeServiceGrpc.newBlockingStub(direct), createdPod);
            }
            direct.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            removeCgroups(cgroupParent);
            deleteTree(work);
        }
    }

    static final int RESTARTS = 3;

    /** Kills {@code shim} with SIGKILL, starts a new one, records spawn-to-serving and its CPU until then. */
    private ShimProcess restart(ShimProcess shim, Path socket, Path work, Map<String, String> env, List<Double> wall,
            List<Double> cpu) throws IOException, InterruptedException {
        shim.kill9();
        long t = System.nanoTime();
        ShimProcess next = ShimProcess.start(socket, upstream, work.resolve("shim-restarts.log"), env);
        next.awaitServing(Duration.ofSeconds(60));
        wall.add((System.nanoTime() - t) / 1e6);
        cpu.add((double) next.cpuMillis());
        return next;
    }

    /** The AppCDS archive the systemd unit's helper makes, in {@code work}; empty without the helper. */
    private static Optional<Path> cdsArchive(Path work) throws IOException, InterruptedException {
        Optional<List<String>> helper = ShimProcess.cdsHelper();
        if (helper.isEmpty()) {
            return Optional.empty();
        }
        Path archive = work.resolve("cri-shim.jsa");
        List<String> cmd = new ArrayList<>(helper.get());
        cmd.add(archive.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve("cds.log").toFile())).start();
        return p.waitFor(120, TimeUnit.SECONDS) && Files.exists(archive) ? Optional.of(archive) : Optional.empty();
    }

    private static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        Collections.sort(s);
        return s.get(s.size() / 2);
    }

    private void startWorkload(RuntimeServiceGrpc.RuntimeServiceBlockingStub d, Path work, String cgroupParent,
            String id) throws IOException {
        Path logs = Files.createDirectories(work.resolve("logs"));
        PodSandboxConfig pod = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName("nk-bench-" + id).setNamespace("nodekit-bench")
                        .setUid("nk-bench-" + id))
                .setLogDirectory(logs.toString())
                .setLinux(LinuxPodSandboxConfig.newBuilder().setCgroupParent(cgroupParent)
                        .setSecurityContext(LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(
                                NamespaceOption.newBuilder().setNetwork(NamespaceMode.NODE))))
                .build();
        String podId = d.withDeadlineAfter(2, TimeUnit.MINUTES)
                .runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(pod).build()).getPodSandboxId();
        createdPod = podId; // removed in the end even if a container fails to start
        for (int i = 0; i < containers; i++) {
            String name = "sleeper-" + i;
            String cid = d.withDeadlineAfter(2, TimeUnit.MINUTES).createContainer(CreateContainerRequest.newBuilder()
                    .setPodSandboxId(podId).setSandboxConfig(pod)
                    .setConfig(ContainerConfig.newBuilder()
                            .setMetadata(ContainerMetadata.newBuilder().setName(name))
                            // What kubelet puts on every container, so a ListContainers answer has the
                            // size it has on a real node (~0.7 KB per container).
                            .putLabels("io.kubernetes.container.name", name)
                            .putLabels("io.kubernetes.pod.name", "nk-bench-" + id)
                            .putLabels("io.kubernetes.pod.namespace", "nodekit-bench")
                            .putLabels("io.kubernetes.pod.uid", "0b9f7f3e-5c1d-4e2a-9d7b-" + String.format("%012d", i))
                            .putAnnotations("io.kubernetes.container.hash", String.format("%08x", name.hashCode()))
                            .putAnnotations("io.kubernetes.container.restartCount", "0")
                            .putAnnotations("io.kubernetes.container.terminationMessagePath", "/dev/termination-log")
                            .putAnnotations("io.kubernetes.container.terminationMessagePolicy", "File")
                            .putAnnotations("io.kubernetes.pod.terminationGracePeriod", "30")
                            .putAnnotations("io.kubernetes.container.ports",
                                    "[{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"}]")
                            .setImage(ImageSpec.newBuilder().setImage(image))
                            .addCommand("sleep").addArgs("3600")
                            .setLogPath("sleeper-" + i + ".log"))
                    .build()).getContainerId();
            d.withDeadlineAfter(2, TimeUnit.MINUTES).startContainer(StartContainerRequest.newBuilder()
                    .setContainerId(cid).build());
        }
    }

    private static void removeWorkload(RuntimeServiceGrpc.RuntimeServiceBlockingStub d, String podId) {
        try {
            d.withDeadlineAfter(5, TimeUnit.MINUTES).stopPodSandbox(StopPodSandboxRequest.newBuilder()
                    .setPodSandboxId(podId).build());
            d.withDeadlineAfter(5, TimeUnit.MINUTES).removePodSandbox(RemovePodSandboxRequest.newBuilder()
                    .setPodSandboxId(podId).build());
        } catch (RuntimeException e) {
            System.err.println("could not remove bench pod " + podId + ": " + e.getMessage());
        }
    }

    /** cgroup v1: the pod's parent directory in every controller; v2: the one directory. Empty ones only. */
    private static void removeCgroups(String parent) {
        Path root = Path.of("/sys/fs/cgroup");
        List<Path> candidates = new ArrayList<>();
        candidates.add(root.resolve(parent.substring(1)));
        try (var ctrls = Files.list(root)) {
            ctrls.forEach(c -> candidates.add(c.resolve(parent.substring(1))));
        } catch (IOException e) {
            return;
        }
        for (Path p : candidates) {
            try {
                if (Files.isDirectory(p)) {
                    try (var subs = Files.list(p)) {
                        subs.filter(Files::isDirectory).forEach(sub -> sub.toFile().delete());
                    }
                    p.toFile().delete();
                }
            } catch (IOException e) {
                // best effort: a busy cgroup stays
            }
        }
    }

    private static void deleteTree(Path p) {
        try (var walk = Files.walk(p)) {
            walk.sorted(Collections.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // temp dir: left for the OS
        }
    }

    private static void time(List<Long> into, int n, Runnable call) {
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            call.run();
            into.add(System.nanoTime() - t);
        }
    }

    private record Throughput(double perSecond, double shimCpuMicrosPerCall) {
    }

    private Throughput throughput(Supplier<?> call, ShimProcess shim) throws Exception {
        AtomicLong calls = new AtomicLong();
        AtomicReference<Throwable> error = new AtomicReference<>();
        CountDownLatch go = new CountDownLatch(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(throughputSeconds);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    while (System.nanoTime() < deadline) {
                        call.get();
                        calls.incrementAndGet();
                    }
                } catch (Throwable e) {
                    error.compareAndSet(null, e);
                }
            });
            t.start();
            threads.add(t);
        }
        long cpu0 = shim == null ? 0 : shim.cpuTicks();
        long t0 = System.nanoTime();
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long cpu1 = shim == null ? 0 : shim.cpuTicks();
        if (error.get() != null) {
            throw new IllegalStateException("a caller failed: " + error.get(), error.get());
        }
        double cpuMicros = (cpu1 - cpu0) * 1e6 / ShimProcess.CLOCK_TICKS_PER_SECOND;
        return new Throughput(calls.get() / seconds, shim == null ? 0 : cpuMicros / calls.get());
    }
}
