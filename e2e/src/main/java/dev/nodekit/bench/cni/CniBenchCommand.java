package dev.nodekit.bench.cni;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import dev.nodekit.bench.BenchRecord;
import dev.nodekit.bench.BenchStore;
import dev.nodekit.bench.LatencyStats;
import dev.nodekit.cni.install.CniInstaller;
import dev.nodekit.cni.install.InstallSpec;
import dev.nodekit.cni.launch.LeanCommandRunner;
import dev.nodekit.common.exec.Executables;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code nodekit bench cni}: ADD and DEL latency of bridge + host-local, nodekit's against the Go
 * reference plugins ({@code /usr/lib/cni}), in the same run and interleaved (these machines are
 * shared and their load moves), plus 40 parallel ADDs. nodekit is measured as
 * {@code nodekit cni install} installs it, in each of the ways a call can go:
 * <ul>
 *   <li>{@code nodekit-daemon}: the C thin client in CNI_PATH, {@code nodekit cni daemon} up (started
 *       by the bench on a socket of its own and warmed up first, as a node's long-running daemon is);</li>
 *   <li>{@code nodekit-fallback}: the same client with no daemon on its socket, so every call execs the
 *       JVM launcher (AppCDS archive, the running JDK): what a node pays while the daemon is down;</li>
 *   <li>{@code nodekit-sh} (when socat is installed): the POSIX sh + socat client against the same
 *       daemon, the alternative to the C client;</li>
 *   <li>{@code nodekit-jdk25-aot} (with {@code --jdk25-aot}): the fallback with a JDK 25 AOT cache.</li>
 * </ul>
 * Needs root (namespaces, bridges).
 *
 * <p>Targets (issue 5): ADD p50 at most 4x Go, DEL p50 at most 1.5x Go, 40 parallel ADDs at most 3x Go.
 */
@Command(name = "cni", mixinStandardHelpOptions = true,
        description = "CNI bridge+host-local ADD/DEL latency: nodekit (daemon, JVM fallback, sh client) vs the Go plugins "
                + "in /usr/lib/cni (root).")
public final class CniBenchCommand implements Callable<Integer> {
    private static final SecureRandom RANDOM = new SecureRandom();

    @Option(names = "--iterations", defaultValue = "20", description = "sequential ADD+DEL rounds per implementation")
    int iterations;

    @Option(names = "--parallel", defaultValue = "40", description = "ADDs started at once")
    int parallel;

    @Option(names = "--daemon-warmup", defaultValue = "30", description = "ADD+DEL rounds through the daemon before measuring")
    int daemonWarmup;

    @Option(names = "--go-dir", defaultValue = "/usr/lib/cni", description = "where the Go plugins are")
    Path goDir;

    @Option(names = "--jdk25", defaultValue = "/usr/lib/jvm/temurin-25-jdk-amd64",
            description = "a JDK 25 home for --jdk25-aot")
    Path jdk25;

    @Option(names = "--jdk25-aot", description = "also measure the JVM launchers with a JDK 25 AOT cache")
    boolean withJdk25;

    @Option(names = "--no-sh", description = "skip the sh + socat client")
    boolean noSh;

    @Option(names = "--results", description = "results directory (default: bench/results)")
    Path results;

    /** One implementation under test: a bin dir whose bridge/host-local are its own. */
    record Impl(String name, Path bin, String bridgeType, String ipamType) {
    }

    @Override
    public Integer call() throws Exception {
        String run = HexFormat.of().formatHex(randomBytes(3));
        Path dir = Files.createTempDirectory("nkbench-" + run + "-");
        Path socketDir = Path.of("/run/nkbench-" + run);
        Path socket = socketDir.resolve("cni.sock");
        List<String> netns = new ArrayList<>();
        List<String> bridges = new ArrayList<>();
        CniDaemonProcess daemon = null;
        try {
            Path java17 = Path.of(System.getProperty("java.home"), "bin", "java");
            List<Impl> impls = new ArrayList<>();
            impls.add(new Impl("go", goDir, "bridge", "host-local"));
            Path thin = install(dir.resolve("thin"), java17, InstallSpec.ClientMode.THIN, socket);
            impls.add(new Impl("nodekit-daemon", thin, "nodekit-bridge", "nodekit-host-local"));
            // The same client pointed at a socket nobody serves: every call takes the JVM fallback.
            impls.add(new Impl("nodekit-fallback", install(dir.resolve("fallback"), java17, InstallSpec.ClientMode.THIN,
                    Path.of("/run/nkbench-" + run + "-down/cni.sock")), "nodekit-bridge", "nodekit-host-local"));
            if (!noSh && Executables.which("socat").isPresent()) {
                impls.add(new Impl("nodekit-sh", shClient(dir.resolve("sh"), thin), "nodekit-bridge", "nodekit-host-local"));
            }
            Path java25 = jdk25.resolve("bin/java");
            if (withJdk25 && Files.isExecutable(java25)) {
                impls.add(new Impl("nodekit-jdk25-aot", install(dir.resolve("jdk25"), java25, InstallSpec.ClientMode.JVM,
                        socket), "nodekit-bridge", "nodekit-host-local"));
            }
            daemon = CniDaemonProcess.start(socket, dir.resolve("daemon.log"), Duration.ofMinutes(2));

            Map<String, List<Long>> add = new LinkedHashMap<>();
            Map<String, List<Long>> del = new LinkedHashMap<>();
            Map<String, List<Long>> version = new LinkedHashMap<>();
            Map<String, String> confs = new LinkedHashMap<>();
            int n = 0;
            for (Impl impl : impls) {
                String br = "nkb" + run + (n++);
                bridges.add(br);
                confs.put(impl.name(), conf(impl, "nkb" + run + impl.name().replaceAll("[^a-z0-9]", ""), br,
                        "10." + (200 + RANDOM.nextInt(50)) + "." + (n * 17 % 256) + ".0/24", dir.resolve("data")));
                add.put(impl.name(), new ArrayList<>());
                del.put(impl.name(), new ArrayList<>());
                version.put(impl.name(), new ArrayList<>());
            }
            int seq = 0;
            // A node's daemon runs for days: warm its JIT up before it is measured.
            for (Impl impl : impls) {
                if (!impl.name().equals("nodekit-daemon")) {
                    continue;
                }
                for (int i = 0; i < daemonWarmup; i++) {
                    String ns = "nkb" + run + "-" + (seq++);
                    netns.add(ns);
                    exec("ip", "netns", "add", ns);
                    String id = "nkb" + run + "w" + seq;
                    cni(impl, impl.bridgeType(), "ADD", ns, id, confs.get(impl.name()));
                    cni(impl, impl.bridgeType(), "DEL", ns, id, confs.get(impl.name()));
                    exec("ip", "netns", "del", ns);
                    netns.remove(ns);
                }
            }
            for (int i = -2; i < iterations; i++) {
                for (Impl impl : impls) {
                    String ns = "nkb" + run + "-" + (seq++);
                    netns.add(ns);
                    exec("ip", "netns", "add", ns);
                    String id = "nkb" + run + "c" + seq;
                    long a = cni(impl, impl.bridgeType(), "ADD", ns, id, confs.get(impl.name()));
                    long d = cni(impl, impl.bridgeType(), "DEL", ns, id, confs.get(impl.name()));
                    long v = cni(impl, impl.bridgeType(), "VERSION", null, null, "{\"cniVersion\":\"1.0.0\"}");
                    exec("ip", "netns", "del", ns);
                    netns.remove(ns);
                    if (i >= 0) {
                        add.get(impl.name()).add(a);
                        del.get(impl.name()).add(d);
                        version.get(impl.name()).add(v);
                    }
                }
            }
            Map<String, Long> parallelAdd = new LinkedHashMap<>();
            Map<String, Long> parallelDel = new LinkedHashMap<>();
            for (Impl impl : impls) {
                List<String> nss = new ArrayList<>();
                for (int i = 0; i < parallel; i++) {
                    String ns = "nkb" + run + "-" + (seq++);
                    netns.add(ns);
                    nss.add(ns);
                    exec("ip", "netns", "add", ns);
                }
                parallelAdd.put(impl.name(), parallelRun(impl, "ADD", nss, confs.get(impl.name()), run));
                parallelDel.put(impl.name(), parallelRun(impl, "DEL", nss, confs.get(impl.name()), run));
                for (String ns : nss) {
                    exec("ip", "netns", "del", ns);
                    netns.remove(ns);
                }
            }
            List<String> names = new ArrayList<>();
            impls.forEach(i -> names.add(i.name()));
            BenchRecord.Builder rec = BenchRecord.start("cni-bridge-host-local").target("nodekit-bridge + nodekit-host-local")
                    .peer("Go bridge + host-local (" + goDir + ")")
                    .notes("implementations " + names + ": nodekit-daemon = C thin client + 'nodekit cni daemon' (warmed up "
                            + "with " + daemonWarmup + " ADD+DEL rounds), nodekit-fallback = the same client with the daemon "
                            + "down, exec'ing the JVM launcher (AppCDS, JDK " + Runtime.version().feature() + "), nodekit-sh = "
                            + "sh + socat client against the same daemon; " + iterations
                            + " interleaved sequential ADD+DEL rounds, then " + parallel
                            + " parallel ADDs and DELs; one netns per ADD; IPv4 /24, isGateway");
            StringBuilder summary = new StringBuilder();
            for (Impl impl : impls) {
                LatencyStats a = LatencyStats.of(add.get(impl.name()));
                LatencyStats d = LatencyStats.of(del.get(impl.name()));
                LatencyStats v = LatencyStats.of(version.get(impl.name()));
                String k = impl.name().replace('-', '_');
                rec.figure(k + "_add_p50_ms", a.p50Ms()).figure(k + "_add_p90_ms", a.p90Ms())
                        .figure(k + "_del_p50_ms", d.p50Ms()).figure(k + "_del_p90_ms", d.p90Ms())
                        .figure(k + "_version_p50_ms", v.p50Ms())
                        .figure(k + "_parallel" + parallel + "_add_wall_ms", parallelAdd.get(impl.name()) / 1e6)
                        .figure(k + "_parallel" + parallel + "_del_wall_ms", parallelDel.get(impl.name()) / 1e6);
                summary.append(String.format("%-18s ADD p50 %7.1f ms  DEL p50 %7.1f ms  VERSION p50 %7.1f ms  "
                        + "%d parallel ADD %7.0f ms  DEL %7.0f ms%n", impl.name(), a.p50Ms(), d.p50Ms(), v.p50Ms(),
                        parallel, parallelAdd.get(impl.name()) / 1e6, parallelDel.get(impl.name()) / 1e6));
            }
            LatencyStats goAdd = LatencyStats.of(add.get("go"));
            LatencyStats goDel = LatencyStats.of(del.get("go"));
            for (Impl impl : impls.subList(1, impls.size())) {
                String k = impl.name().replace('-', '_');
                double ra = LatencyStats.of(add.get(impl.name())).p50Ms() / goAdd.p50Ms();
                double rd = LatencyStats.of(del.get(impl.name())).p50Ms() / goDel.p50Ms();
                double rp = (double) parallelAdd.get(impl.name()) / parallelAdd.get("go");
                rec.ratio(k + "_add_p50_vs_go", ra).goal(k + "_add_p50_vs_go", "<= 4x Go")
                        .ratio(k + "_del_p50_vs_go", rd).goal(k + "_del_p50_vs_go", "<= 1.5x Go")
                        .ratio(k + "_parallel" + parallel + "_add_vs_go", rp)
                        .goal(k + "_parallel" + parallel + "_add_vs_go", "<= 3x Go");
                summary.append(String.format("%-18s vs Go: ADD %.1fx (goal 4x)  DEL %.1fx (goal 1.5x)  parallel ADD %.1fx "
                        + "(goal 3x)%n", impl.name(), ra, rd, rp));
            }
            BenchStore store = results != null ? new BenchStore(results) : BenchStore.defaultStore();
            BenchRecord built = rec.build();
            Path file = store.write(built);
            System.out.print(summary);
            System.out.println("load average at start: " + built.loadAverage());
            System.out.println("wrote " + file);
            return 0;
        } finally {
            if (daemon != null) {
                daemon.stop(Duration.ofSeconds(40));
            }
            for (String ns : netns) {
                runQuietly("ip", "netns", "del", ns);
            }
            for (String br : bridges) {
                runQuietly("ip", "link", "del", br);
            }
            deleteTree(socketDir);
            deleteTree(dir);
        }
    }

    private Path install(Path dir, Path java, InstallSpec.ClientMode mode, Path socket) throws Exception {
        CniInstaller.Report r = new CniInstaller(new LeanCommandRunner(), Duration.ofMinutes(10)).install(
                InstallSpec.builder(dir.resolve("bin"), dir.resolve("conf"), dir.resolve("lib"), java).network("nkbench")
                        .loopbackAlias(false).client(mode).daemonSocket(socket).build());
        if (r.archive().isEmpty()) {
            throw new IllegalStateException("no class-data archive was built for " + java + ": " + r.notes());
        }
        if (mode == InstallSpec.ClientMode.THIN && r.client().isEmpty()) {
            throw new IllegalStateException("no thin client was installed: " + r.notes());
        }
        return dir.resolve("bin");
    }

    /** A bin dir of sh clients sharing the C client's settings and fallback launchers. */
    private static Path shClient(Path dir, Path thinBin) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        byte[] script;
        try (var in = CniBenchCommand.class.getResourceAsStream("nodekit-cni-client.sh")) {
            script = in.readAllBytes();
        }
        for (String name : List.of("nodekit-bridge", "nodekit-host-local")) {
            Path p = bin.resolve(name);
            Files.write(p, script);
            Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Files.copy(thinBin.resolve(CniInstaller.CLIENT_CONF), bin.resolve(CniInstaller.CLIENT_CONF));
        return bin;
    }

    private static String conf(Impl impl, String network, String bridge, String subnet, Path data) {
        return "{\"cniVersion\":\"1.0.0\",\"name\":\"" + network + "\",\"type\":\"" + impl.bridgeType() + "\",\"bridge\":\""
                + bridge + "\",\"isGateway\":true,\"ipam\":{\"type\":\"" + impl.ipamType() + "\",\"ranges\":[[{\"subnet\":\""
                + subnet + "\"}]],\"dataDir\":\"" + data + "\"}}";
    }

    /** Runs one CNI call and returns its duration in nanoseconds; a failed call aborts the bench. */
    private static long cni(Impl impl, String plugin, String command, String ns, String id, String conf) throws Exception {
        List<String> env = new ArrayList<>(List.of("CNI_COMMAND=" + command, "CNI_PATH=" + impl.bin(),
                "PATH=/usr/sbin:/usr/bin:/sbin:/bin"));
        if (ns != null) {
            env.add("CNI_NETNS=/run/netns/" + ns);
            env.add("CNI_CONTAINERID=" + id);
            env.add("CNI_IFNAME=eth0");
        }
        ProcessBuilder pb = new ProcessBuilder(impl.bin().resolve(plugin).toString());
        pb.environment().clear();
        for (String e : env) {
            int eq = e.indexOf('=');
            pb.environment().put(e.substring(0, eq), e.substring(eq + 1));
        }
        pb.redirectErrorStream(true);
        long start = System.nanoTime();
        Process p = pb.start();
        p.getOutputStream().write(conf.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(impl.name() + " " + command + " hung");
        }
        long took = System.nanoTime() - start;
        if (p.exitValue() != 0) {
            throw new IllegalStateException(impl.name() + " " + command + " failed: " + out);
        }
        return took;
    }

    private static long parallelRun(Impl impl, String command, List<String> nss, String conf, String run) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(nss.size());
        try {
            List<Future<Long>> fs = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < nss.size(); i++) {
                String ns = nss.get(i);
                String id = "nkb" + run + "p" + i;
                fs.add(pool.submit(() -> cni(impl, impl.bridgeType(), command, ns, id, conf)));
            }
            for (Future<Long> f : fs) {
                f.get(30, TimeUnit.MINUTES);
            }
            return System.nanoTime() - start;
        } finally {
            pool.shutdownNow();
        }
    }

    private static void exec(String... argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", argv) + " failed: " + out);
        }
    }

    private static void runQuietly(String... argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor(30, TimeUnit.SECONDS);
        } catch (IOException e) {
            // Best effort cleanup.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
