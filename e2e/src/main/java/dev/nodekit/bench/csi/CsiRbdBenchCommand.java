package dev.nodekit.bench.csi;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import dev.nodekit.bench.BenchRecord;
import dev.nodekit.bench.BenchStore;
import dev.nodekit.bench.LatencyStats;
import dev.nodekit.bench.Strided;
import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.e2e.CsiDriverProcess;
import dev.nodekit.e2e.ceph.CephCluster;
import dev.nodekit.spec.csi.v1.CapacityRange;
import dev.nodekit.spec.csi.v1.ControllerGrpc;
import dev.nodekit.spec.csi.v1.CreateVolumeRequest;
import dev.nodekit.spec.csi.v1.DeleteVolumeRequest;
import dev.nodekit.spec.csi.v1.VolumeCapability;
import io.grpc.ManagedChannel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code nodekit bench csi-rbd}: the RBD backend's CreateVolume and DeleteVolume against the
 * {@code rbd} CLI doing the same thing, in one run on a private memstore Ceph fixture
 * ({@link CephCluster}), as issue 4 asks: CreateVolume p50 at most 1.2x one {@code rbd create}
 * (the driver's omap journal included), and throughput at concurrency 8.
 *
 * <p>Method. The fixture boots; the driver starts through {@code bin/nodekit csi --backend rbd
 * --ceph-config FILE} (the launcher's JVM flags, as in production). Both sides act as the same
 * restricted cephx user on the same pool and create the same image: {@code size} thin, features
 * {@code layering,deep-flatten} (what the driver creates by default); the CLI gets its identity
 * through {@code CEPH_ARGS} ({@code --id --keyfile -c /dev/null -m}), the driver through the CSI
 * secrets. A warm-up of both sides is not measured. Then, concurrency 1: creates alternate
 * between the CLI and the driver (who goes first alternates too), then deletes alternate
 * ({@code rbd rm} and DeleteVolume); each latency is the wall time of one process run or one RPC.
 * Concurrency 8: four rounds (fewer for counts below 32), each a CLI batch and a driver batch (order alternating) of
 * {@code count/4} creates on 8 threads, then the same for deletes; throughput is operations over
 * the summed wall time of a side's batches. Interleaving spreads the noise of this shared machine
 * over both sides; the ratios are what count. At the end no image of the run may be left in the
 * pool.
 *
 * <p>Everything it starts (driver, cluster, scratch dir) is stopped and deleted on success,
 * failure and Ctrl-C (a shutdown hook); a cluster left by a killed JVM is reaped by the next
 * fixture JVM.
 */
@Command(name = "csi-rbd", mixinStandardHelpOptions = true,
        description = "Benchmark the RBD backend against the rbd CLI on a private Ceph fixture (memstore).")
public final class CsiRbdBenchCommand implements Callable<Integer> {
    static final String BENCH = "csi-rbd";
    static final String CLUSTER_ID = "bench";
    static final String FEATURES = "layering,deep-flatten";
    private static final int ROUNDS = 4;
    private static final int CONCURRENCY = 8;
    private static final Duration CLI_TIMEOUT = Duration.ofSeconds(60);

    @Option(names = "--count", defaultValue = "200", paramLabel = "N",
            description = "Creates (and deletes) per side and concurrency level (default: ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--warmup", defaultValue = "20", paramLabel = "N",
            description = "Unmeasured creates and deletes per side first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--size-mib", defaultValue = "1024", paramLabel = "MIB",
            description = "Image size, thin (default: ${DEFAULT-VALUE}).")
    long sizeMib;

    @Option(names = "--scratch-parent", paramLabel = "DIR",
            description = "Where the run's scratch dir (driver socket, config, log) is created and deleted "
                    + "(default: the temp dir).")
    Path scratchParent;

    @Option(names = "--results", paramLabel = "DIR", description = "Results directory (default: bench/results).")
    Path results;

    @Option(names = "--notes", paramLabel = "TEXT", description = "Extra notes for the record.")
    String extraNotes;

    private static final VolumeCapability MOUNT = VolumeCapability.newBuilder()
            .setMount(VolumeCapability.MountVolume.newBuilder().setFsType("ext4"))
            .setAccessMode(VolumeCapability.AccessMode.newBuilder()
                    .setMode(VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER)).build();

    @Override
    public Integer call() throws Exception {
        if (count < CONCURRENCY) {
            throw new IllegalArgumentException("--count must be at least " + CONCURRENCY);
        }
        if (warmup < 0 || sizeMib < 1) {
            throw new IllegalArgumentException("--warmup must be >= 0 and --size-mib >= 1");
        }
        try (Resources res = new Resources(scratchParent == null
                ? Files.createTempDirectory("nodekit-bench-rbd-")
                : Files.createTempDirectory(Files.createDirectories(scratchParent), "nodekit-bench-rbd-"))) {
            long t0 = System.nanoTime();
            CephCluster cluster = res.cluster(CephCluster.start(CephCluster.Options.defaults()));
            double bootSeconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("ceph fixture up in %.1f s: %s%n", bootSeconds, cluster);
            Path config = writeConfig(cluster, res.work);
            CsiDriverProcess driver = res.driver(CsiDriverProcess.start(CsiDriverProcess.Spec
                    .in(res.work.resolve("driver"), "bench-rbd-node")
                    .withArgs("--backend", "rbd", "--ceph-config", config.toString(), "--driver-name",
                            "rbd.csi.nodekit.dev")
                    .withEnv(Map.of("NODEKIT_LOG_LEVEL", "WARN")), Duration.ofSeconds(90)));
            ManagedChannel ch = res.channel(UdsChannels.forTarget(driver.endpoint()));
            Sides sides = new Sides(cluster, ControllerGrpc.newBlockingStub(ch), sizeMib << 20);
            String run = UUID.randomUUID().toString().substring(0, 8);

            BenchRecord.Builder rec = BenchRecord.start(BENCH)
                    .target("nodekit csi --backend rbd (CreateVolume/DeleteVolume over gRPC, journal in RADOS omap), "
                            + "started by bin/nodekit with its JVM flags")
                    .peer("the rbd CLI of the installed Ceph (" + cephVersion() + "): one 'rbd create' / 'rbd rm' "
                            + "process per image, as the same user, on the same memstore fixture, in the same run");
            rec.figure("ceph_boot_s", bootSeconds);

            sides.warmUp("w-" + run, warmup);

            // Concurrency 1, interleaved one by one.
            List<Long> cliCreate = new ArrayList<>();
            List<Long> csiCreate = new ArrayList<>();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String name = "c1-" + run + "-" + i;
                if (i % 2 == 0) {
                    cliCreate.add(sides.cliCreate(name));
                    csiCreate.add(sides.csiCreate(name, ids));
                } else {
                    csiCreate.add(sides.csiCreate(name, ids));
                    cliCreate.add(sides.cliCreate(name));
                }
            }
            List<Long> cliRm = new ArrayList<>();
            List<Long> csiDelete = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String name = "c1-" + run + "-" + i;
                if (i % 2 == 0) {
                    cliRm.add(sides.cliRm(name));
                    csiDelete.add(sides.csiDelete(ids.get(i)));
                } else {
                    csiDelete.add(sides.csiDelete(ids.get(i)));
                    cliRm.add(sides.cliRm(name));
                }
            }
            LatencyStats cc = LatencyStats.of(cliCreate);
            LatencyStats vc = LatencyStats.of(csiCreate);
            LatencyStats cr = LatencyStats.of(cliRm);
            LatencyStats vd = LatencyStats.of(csiDelete);
            percentiles(rec, "cli_create_c1", cc);
            percentiles(rec, "create_c1", vc);
            percentiles(rec, "cli_rm_c1", cr);
            percentiles(rec, "delete_c1", vd);
            System.out.printf("c1 create: rbd create p50 %.1f ms p90 %.1f p99 %.1f | CreateVolume p50 %.1f ms p90 %.1f "
                    + "p99 %.1f%n", cc.p50Ms(), cc.p90Ms(), cc.p99Ms(), vc.p50Ms(), vc.p90Ms(), vc.p99Ms());
            System.out.printf("c1 delete: rbd rm p50 %.1f ms p90 %.1f p99 %.1f | DeleteVolume p50 %.1f ms p90 %.1f "
                    + "p99 %.1f%n", cr.p50Ms(), cr.p90Ms(), cr.p99Ms(), vd.p50Ms(), vd.p90Ms(), vd.p99Ms());

            // Concurrency 8, in alternating rounds.
            Concurrent c8 = sides.concurrent("c8-" + run, count);
            rec.figure("cli_create_c8_per_s", c8.cliCreatePerS()).figure("create_c8_per_s", c8.csiCreatePerS())
                    .figure("cli_rm_c8_per_s", c8.cliRmPerS()).figure("delete_c8_per_s", c8.csiDeletePerS())
                    .figure("create_c8_p50_ms", c8.csiCreate().p50Ms())
                    .figure("cli_create_c8_p50_ms", c8.cliCreate().p50Ms());
            System.out.printf("c8: rbd create %.1f/s, CreateVolume %.1f/s | rbd rm %.1f/s, DeleteVolume %.1f/s%n",
                    c8.cliCreatePerS(), c8.csiCreatePerS(), c8.cliRmPerS(), c8.csiDeletePerS());

            rec.ratio("create_p50_vs_cli", vc.p50Ms() / cc.p50Ms()).goal("create_p50_vs_cli", "<= 1.2");
            rec.ratio("create_p90_vs_cli", vc.p90Ms() / cc.p90Ms());
            rec.ratio("create_p99_vs_cli", vc.p99Ms() / cc.p99Ms());
            rec.ratio("delete_p50_vs_cli_rm", vd.p50Ms() / cr.p50Ms());
            rec.ratio("create_c8_vs_cli", c8.csiCreatePerS() / c8.cliCreatePerS());
            rec.ratio("delete_c8_vs_cli_rm", c8.csiDeletePerS() / c8.cliRmPerS());
            rec.figure("driver_rss_mib", driver.rssKiB() / 1024.0);
            List<Double> load = loadAverage();
            if (!load.isEmpty()) {
                rec.figure("load_1m_at_end", load.get(0));
            }
            System.out.printf("CreateVolume p50 / rbd create p50 = %.2f (goal <= 1.2); load average at end %s%n",
                    vc.p50Ms() / cc.p50Ms(), load);

            String left = cluster.adminOk("rbd", "ls", "-p", cluster.pool()).lines()
                    .filter(l -> l.contains(run) || l.startsWith("csi-vol-")).reduce((a, b) -> a + " " + b).orElse("");
            if (!left.isEmpty()) {
                throw new IOException("images of this run left in " + cluster.pool() + ": " + left);
            }
            rec.notes(notes());
            Path written = (results != null ? new BenchStore(results) : BenchStore.defaultStore()).write(rec.build());
            System.out.println("wrote " + written);
            return 0;
        }
    }

    private String notes() {
        String n = "One run on a private single-node Ceph 16.2 fixture (mon, mgr, one memstore OSD on 127.0.0.1, cephx), "
                + "driver and CLI as the same restricted user (profile rbd) on the same pool; every image "
                + sizeMib + " MiB thin, features " + FEATURES + " (the driver's default). Each CreateVolume includes "
                + "the driver's omap journal (reserve, bind name, create image, mark ready); each CLI sample is one "
                + "'rbd create' / 'rbd rm --no-progress' process (start, connect, authenticate, act, exit), identity "
                + "through CEPH_ARGS. " + warmup + " unmeasured creates and deletes per side first. Concurrency 1: "
                + count + " creates per side, CLI and driver alternating one by one (who goes first alternating), "
                + "then the deletes the same way. Concurrency 8: " + count + " creates per side in " + rounds(count)
                + " alternating rounds of a CLI batch and a driver batch on 8 threads, then the deletes; throughput "
                + "= operations / summed wall time of that side's batches. The machine is a shared 2-core VM (load "
                + "average in the record, start and load_1m_at_end): absolute figures are noisy, the ratios are "
                + "what the goal is stated in.";
        return extraNotes == null ? n : n + " " + extraNotes;
    }

    private static void percentiles(BenchRecord.Builder rec, String prefix, LatencyStats s) {
        rec.figure(prefix + "_p50_ms", s.p50Ms()).figure(prefix + "_p90_ms", s.p90Ms())
                .figure(prefix + "_p99_ms", s.p99Ms());
    }

    /** The driver's {@code --ceph-config} and the credential directory it names (the driver's reads use it). */
    static Path writeConfig(CephCluster c, Path work) throws IOException {
        Path cred = Files.createDirectories(work.resolve("ceph-secret"));
        writeSecret(cred.resolve("userID"), c.clientId());
        writeSecret(cred.resolve("userKey"), c.clientKey());
        String yaml = String.join("\n",
                "clusters:",
                "  - clusterID: " + CLUSTER_ID,
                "    monitors: \"" + c.monitors() + "\"",
                "    connectTimeout: 10s",
                "    operationTimeout: 30s",
                "    credentialFile: " + cred,
                "");
        Path file = work.resolve("ceph.yaml");
        Files.writeString(file, yaml, StandardCharsets.UTF_8);
        return file;
    }

    private static void writeSecret(Path f, String text) throws IOException {
        Files.writeString(f, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    }

    private static String cephVersion() {
        try {
            Process p = new ProcessBuilder("rbd", "--version").redirectErrorStream(true).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
            }
            p.waitFor(20, TimeUnit.SECONDS);
            // "ceph version 16.2.11 (...) pacific (stable)"
            String[] f = out.split(" ");
            return f.length >= 3 ? "ceph " + f[2] : out;
        } catch (IOException e) {
            return "version unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "version unknown";
        }
    }

    private static List<Double> loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return List.of(Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    /** Rounds at concurrency 8: {@link #ROUNDS}, fewer for small counts (each round runs at least 8 per side). */
    static int rounds(int count) {
        return Math.max(1, Math.min(ROUNDS, count / CONCURRENCY));
    }

    /** Results of the concurrency-8 rounds. */
    record Concurrent(LatencyStats cliCreate, double cliCreatePerS, LatencyStats csiCreate, double csiCreatePerS,
            double cliRmPerS, double csiDeletePerS) {
    }

    /** The two sides, each timing one operation per call. */
    private static final class Sides {
        private final CephCluster cluster;
        private final ControllerGrpc.ControllerBlockingStub csi;
        private final long sizeBytes;
        private final Map<String, String> secrets;
        private final Map<String, String> parameters;

        Sides(CephCluster cluster, ControllerGrpc.ControllerBlockingStub csi, long sizeBytes) {
            this.cluster = cluster;
            this.csi = csi;
            this.sizeBytes = sizeBytes;
            this.secrets = Map.of("userID", cluster.clientId(), "userKey", cluster.clientKey());
            this.parameters = Map.of("clusterID", CLUSTER_ID, "pool", cluster.pool(), "imageFeatures", "layering");
        }

        void warmUp(String prefix, int n) throws Exception {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                cliCreate(prefix + "-" + i);
                csiCreate(prefix + "-" + i, ids);
            }
            for (int i = 0; i < n; i++) {
                cliRm(prefix + "-" + i);
                csiDelete(ids.get(i));
            }
        }

        /** {@code rbd create}; returns its wall time in ns. */
        long cliCreate(String name) throws IOException {
            return cli("create", "--size", (sizeBytes >> 20) + "M", "--image-feature", FEATURES,
                    cluster.pool() + "/cli-" + name);
        }

        long cliRm(String name) throws IOException {
            return cli("rm", "--no-progress", cluster.pool() + "/cli-" + name);
        }

        private long cli(String... args) throws IOException {
            List<String> argv = new ArrayList<>();
            argv.add("rbd");
            argv.addAll(List.of(args));
            ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
            pb.environment().put("CEPH_ARGS", cluster.clientCephArgs());
            long t = System.nanoTime();
            Process p = pb.start();
            try {
                p.getOutputStream().close();
                byte[] out;
                try (InputStream in = p.getInputStream()) {
                    out = in.readAllBytes();
                }
                if (!p.waitFor(CLI_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IOException(String.join(" ", argv) + " did not finish within " + CLI_TIMEOUT);
                }
                long nanos = System.nanoTime() - t;
                if (p.exitValue() != 0) {
                    throw new IOException(String.join(" ", argv) + " -> exit " + p.exitValue() + ": "
                            + new String(out, StandardCharsets.UTF_8).strip());
                }
                return nanos;
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while running " + String.join(" ", argv), e);
            }
        }

        /** CreateVolume; adds the id to {@code ids}, returns the RPC's wall time in ns. */
        long csiCreate(String name, List<String> ids) {
            long t = System.nanoTime();
            String id = csi.withDeadlineAfter(60, TimeUnit.SECONDS).createVolume(CreateVolumeRequest.newBuilder()
                    .setName("csi-" + name).addVolumeCapabilities(MOUNT)
                    .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(sizeBytes))
                    .putAllParameters(parameters).putAllSecrets(secrets).build()).getVolume().getVolumeId();
            long nanos = System.nanoTime() - t;
            ids.add(id);
            return nanos;
        }

        long csiDelete(String id) {
            long t = System.nanoTime();
            csi.withDeadlineAfter(60, TimeUnit.SECONDS).deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id)
                    .putAllSecrets(secrets).build());
            return System.nanoTime() - t;
        }

        /** {@code n} creates and deletes per side in {@link CsiRbdBenchCommand#rounds} rounds. */
        Concurrent concurrent(String prefix, int n) throws Exception {
            int rounds = rounds(n);
            int per = n / rounds;
            List<Long> cliCreate = Collections.synchronizedList(new ArrayList<>());
            List<Long> csiCreate = Collections.synchronizedList(new ArrayList<>());
            List<String> ids = Collections.synchronizedList(new ArrayList<>());
            long cliCreateWall = 0;
            long csiCreateWall = 0;
            for (int r = 0; r < rounds; r++) {
                int base = r * per;
                Strided.Step cli = i -> cliCreate.add(cliCreate(prefix + "-" + (base + i)));
                Strided.Step drv = i -> csiCreate.add(csiCreate(prefix + "-" + (base + i), ids));
                if (r % 2 == 0) {
                    cliCreateWall += Strided.run(CONCURRENCY, per, cli);
                    csiCreateWall += Strided.run(CONCURRENCY, per, drv);
                } else {
                    csiCreateWall += Strided.run(CONCURRENCY, per, drv);
                    cliCreateWall += Strided.run(CONCURRENCY, per, cli);
                }
            }
            List<String> toDelete = List.copyOf(ids);
            long cliRmWall = 0;
            long csiDeleteWall = 0;
            for (int r = 0; r < rounds; r++) {
                int base = r * per;
                Strided.Step cli = i -> cliRm(prefix + "-" + (base + i));
                Strided.Step drv = i -> csiDelete(toDelete.get(base + i));
                if (r % 2 == 0) {
                    cliRmWall += Strided.run(CONCURRENCY, per, cli);
                    csiDeleteWall += Strided.run(CONCURRENCY, per, drv);
                } else {
                    csiDeleteWall += Strided.run(CONCURRENCY, per, drv);
                    cliRmWall += Strided.run(CONCURRENCY, per, cli);
                }
            }
            int total = per * rounds;
            return new Concurrent(LatencyStats.of(cliCreate), total / (cliCreateWall / 1e9), LatencyStats.of(csiCreate),
                    total / (csiCreateWall / 1e9), total / (cliRmWall / 1e9), total / (csiDeleteWall / 1e9));
        }
    }

    /**
     * What the run started, stopped once in reverse order by {@link #close()} or, on Ctrl-C or
     * SIGTERM, by a shutdown hook: channel, driver (SIGTERM, then SIGKILL), cluster, scratch dir.
     */
    private static final class Resources implements AutoCloseable {
        private final Path work;
        private final Thread hook;
        private ManagedChannel channel;
        private CsiDriverProcess driver;
        private CephCluster cluster;
        private boolean closed;

        Resources(Path work) {
            this.work = work;
            this.hook = new Thread(this::release, "bench-csi-rbd-teardown");
            Runtime.getRuntime().addShutdownHook(hook);
        }

        synchronized CephCluster cluster(CephCluster c) {
            this.cluster = c;
            return c;
        }

        synchronized CsiDriverProcess driver(CsiDriverProcess d) {
            this.driver = d;
            return d;
        }

        synchronized ManagedChannel channel(ManagedChannel c) {
            this.channel = c;
            return c;
        }

        private synchronized void release() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                if (channel != null) {
                    channel.shutdownNow();
                }
                if (driver != null) {
                    driver.stop(Duration.ofSeconds(20));
                }
            } finally {
                try {
                    if (cluster != null) {
                        cluster.close();
                    }
                } finally {
                    deleteTree(work);
                }
            }
        }

        @Override
        public void close() {
            release();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // The JVM is shutting down: the hook is running or ran release() already.
            }
        }

        private static void deleteTree(Path dir) {
            try (var s = Files.walk(dir)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException e) {
                System.err.println("could not delete " + dir + ": " + e.getMessage());
            }
        }
    }
}
