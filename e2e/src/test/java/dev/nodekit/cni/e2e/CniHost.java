package dev.nodekit.cni.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.nodekit.cni.install.CniInstaller;
import dev.nodekit.cni.install.InstallSpec;
import dev.nodekit.cni.launch.LeanCommandRunner;
import dev.nodekit.cni.net.IpAddress;
import dev.nodekit.cni.net.IpMasq;

/**
 * A throwaway CNI host for the plugin integration tests: nodekit's plugins installed as launchers into
 * a temp bin dir next to symlinks to the Go reference plugins (so either can delegate to the other
 * through one CNI_PATH), network namespaces, bridges, subnets and network names that are unique to the
 * run, and a close() that removes everything the run created, checking that nothing was left by the
 * plugins first (the tests assert that separately; close() is the safety net).
 */
final class CniHost implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    final String runId;
    final Path dir;
    final Path bin;
    final Path data;
    private final List<String> netns = new ArrayList<>();
    private final List<String> bridges = new ArrayList<>();
    private final List<String> networks = new ArrayList<>();
    private int counter;

    private CniHost(String runId, Path dir) {
        this.runId = runId;
        this.dir = dir;
        this.bin = dir.resolve("bin");
        this.data = dir.resolve("data");
    }

    /** Installs the plugins as JVM launchers (without a class-data archive unless asked) into a fresh temp dir. */
    static CniHost create(boolean archive) throws Exception {
        return create(archive, InstallSpec.ClientMode.JVM, InstallSpec.DEFAULT_SOCKET);
    }

    /**
     * Installs the plugins into a fresh temp dir: {@code mode} THIN puts the C thin client of the daemon on
     * {@code socket} in the bin dir (the JVM launchers are its fallback), JVM the launchers themselves.
     */
    static CniHost create(boolean archive, InstallSpec.ClientMode mode, Path socket) throws Exception {
        byte[] b = new byte[3];
        RANDOM.nextBytes(b);
        String id = HexFormat.of().formatHex(b);
        Path dir = Files.createTempDirectory("nkcni-" + id + "-");
        CniHost h = new CniHost(id, dir);
        CniInstaller.Report r = new CniInstaller(new LeanCommandRunner(), Duration.ofMinutes(5)).install(InstallSpec
                .builder(h.bin, dir.resolve("conf"), dir.resolve("lib"), Path.of(System.getProperty("java.home"), "bin",
                        "java")).network("nk").archive(archive).loopbackAlias(false).client(mode).daemonSocket(socket)
                .build());
        if (mode == InstallSpec.ClientMode.THIN && r.client().isEmpty()) {
            throw new IllegalStateException("no thin client installed: " + r.notes());
        }
        for (String go : List.of("bridge", "host-local", "loopback")) {
            Files.createSymbolicLink(h.bin.resolve(go), Path.of("/usr/lib/cni", go));
        }
        Files.createDirectories(h.data);
        return h;
    }

    /** A new namespace {@code nk<run>-N}; returns its path under /run/netns. */
    Path newNetns() throws Exception {
        String name = "nk" + runId + "-" + (++counter);
        sh("ip", "netns", "add", name).check();
        netns.add(name);
        return Path.of("/run/netns", name);
    }

    void deleteNetns(Path path) throws Exception {
        String name = path.getFileName().toString();
        sh("ip", "netns", "del", name).check();
        netns.remove(name);
    }

    /** A bridge name unique to the run (removed by close). */
    String newBridge() {
        String name = "nk" + runId + "b" + (++counter);
        bridges.add(name);
        return name;
    }

    /** A network name unique to the run (its masquerade rules are checked and removed by close). */
    String newNetwork() {
        String name = "nk" + runId + "n" + (++counter);
        networks.add(name);
        return name;
    }

    /** A container id unique to the run. */
    String newContainerId() {
        return "nk" + runId + "c" + (++counter);
    }

    /** A private IPv4 /24 that no route or address of the host overlaps (never 10.88/16). */
    String freeSubnet() throws Exception {
        String routes = sh("ip", "-4", "route", "show", "table", "all").out + sh("ip", "-4", "addr").out;
        for (int i = 0; i < 200; i++) {
            int x = 200 + RANDOM.nextInt(50);
            int y = RANDOM.nextInt(256);
            String prefix = "10." + x + "." + y + ".";
            if (!routes.contains(prefix) && !routes.contains("10." + x + ".0.0/16")) {
                return prefix + "0/24";
            }
        }
        throw new IllegalStateException("no free 10.200-249.x.0/24 subnet");
    }

    /** A private IPv6 /64 unique to the run. */
    String freeSubnet6() {
        return "fd00:" + runId.substring(0, 4) + ":" + Integer.toHexString(++counter) + "::/64";
    }

    /** The host-local state dir of {@code network}. */
    Path ipamDir(String network) {
        return data.resolve(network);
    }

    /** Files of {@code network}'s IPAM dir named by an address, in Go's spelling. */
    List<String> allocations(String network) throws IOException {
        Path d = ipamDir(network);
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(d)) {
            return out;
        }
        try (Stream<Path> s = Files.list(d)) {
            s.map(p -> p.getFileName().toString()).filter(n -> {
                IpAddress a = IpAddress.parseOrNull(n);
                return a != null && a.toString().equals(n);
            }).sorted().forEach(out::add);
        }
        return out;
    }

    /** The host-side ports of {@code bridge}. */
    List<String> ports(String bridge) throws IOException {
        Path d = Path.of("/sys/class/net", bridge, "brif");
        List<String> out = new ArrayList<>();
        if (Files.isDirectory(d)) {
            try (Stream<Path> s = Files.list(d)) {
                s.forEach(p -> out.add(p.getFileName().toString()));
            }
        }
        return out;
    }

    /** The nat rules mentioning {@code network} (masquerade of its containers). */
    List<String> natRules(String network) throws Exception {
        List<String> out = new ArrayList<>();
        for (String fam : List.of("iptables-save", "ip6tables-save")) {
            for (String l : sh(fam, "-t", "nat").out.split("\n")) {
                if (l.contains("name: \\\"" + network + "\\\"")) {
                    out.add(l);
                }
            }
        }
        return out;
    }

    /** A bridge plugin configuration (JSON object) on {@code bridge} for {@code network}. */
    String bridgeConf(String version, String network, String type, String bridge, String ipamType, String extra,
            String... subnets) {
        StringBuilder ranges = new StringBuilder();
        for (String s : subnets) {
            if (ranges.length() > 0) {
                ranges.append(',');
            }
            ranges.append("[{\"subnet\":\"").append(s).append("\"}]");
        }
        return "{\"cniVersion\":\"" + version + "\",\"name\":\"" + network + "\",\"type\":\"" + type + "\",\"bridge\":\""
                + bridge + "\",\"isGateway\":true" + extra + ",\"ipam\":{\"type\":\"" + ipamType + "\",\"ranges\":["
                + ranges + "],\"dataDir\":\"" + data + "\"}}";
    }

    /** Closes a suite's target (when opened) and prints its measurements as "cni-suite LABEL NAME: N ms". */
    static void closeAndReport(dev.nodekit.conformance.cni.CniTarget target, String label) throws Exception {
        if (target != null) {
            target.close();
            target.measurements().forEach(m -> System.out.printf("cni-suite %s %s: %d ms%n", label, m.name(),
                    m.duration().toMillis()));
        }
    }

    /** nodekit-bridge with nodekit-host-local and ipMasq, on {@code bridge} and a free subnet: what most tests run. */
    String masqBridgeConf(String version, String network, String bridge) throws Exception {
        return bridgeConf(version, network, "nodekit-bridge", bridge, "nodekit-host-local", ",\"ipMasq\":true", freeSubnet());
    }

    /** Runs {@code plugin} from the bin dir the way a runtime does: clean environment, stdin, stdout. */
    Exec cni(String plugin, String command, Path netnsPath, String containerId, String ifname, String stdin)
            throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("CNI_COMMAND", command);
        env.put("CNI_PATH", bin.toString());
        if (containerId != null) {
            env.put("CNI_CONTAINERID", containerId);
        }
        if (netnsPath != null) {
            env.put("CNI_NETNS", netnsPath.toString());
        }
        if (ifname != null) {
            env.put("CNI_IFNAME", ifname);
        }
        return run(List.of(bin.resolve(plugin).toString()), env, stdin, Duration.ofSeconds(120));
    }

    /** Starts {@code plugin} without waiting (for kill -9 tests). */
    Process start(String plugin, String command, Path netnsPath, String containerId, String stdin) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(bin.resolve(plugin).toString());
        pb.environment().clear();
        pb.environment().putAll(Map.of("CNI_COMMAND", command, "CNI_PATH", bin.toString(), "CNI_CONTAINERID",
                containerId, "CNI_NETNS", netnsPath.toString(), "CNI_IFNAME", "eth0", "PATH", "/usr/sbin:/usr/bin:/sbin:/bin"));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        return p;
    }

    static Exec sh(String... argv) throws Exception {
        return run(List.of(argv), Map.of(), "", Duration.ofSeconds(60));
    }

    static Exec run(List<String> argv, Map<String, String> env, String stdin, Duration timeout) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(argv);
        if (!env.isEmpty()) {
            pb.environment().clear();
            pb.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
            pb.environment().putAll(env);
        }
        Path out = Files.createTempFile("nkcni", ".out");
        Path err = Files.createTempFile("nkcni", ".err");
        try {
            pb.redirectOutput(out.toFile()).redirectError(err.toFile());
            long start = System.nanoTime();
            Process p = pb.start();
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(argv + " did not finish within " + timeout);
            }
            return new Exec(argv, p.exitValue(), Files.readString(out), Files.readString(err),
                    Duration.ofNanos(System.nanoTime() - start));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** A finished command. */
    /**
     * {@code n} parallel ADDs through nodekit-bridge + nodekit-host-local on a new bridge and
     * network, then {@code n} parallel DELs: every ADD succeeds with a distinct address and a port on
     * the bridge, and after the DELs no allocation or port is left. {@code eachAdd} also sees every
     * ADD's answer.
     */
    void parallelAddsThenDels(int n, Duration bound, Consumer<Exec> eachAdd) throws Exception {
        String net = newNetwork();
        String br = newBridge();
        String conf = bridgeConf("1.0.0", net, "nodekit-bridge", br, "nodekit-host-local", "", freeSubnet());
        List<Path> nss = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            nss.add(newNetns());
            ids.add(newContainerId());
        }
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<Exec>> adds = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                adds.add(pool.submit(() -> cni("nodekit-bridge", "ADD", nss.get(k), ids.get(k), "eth0", conf)));
            }
            Set<String> addrs = new HashSet<>();
            for (Future<Exec> f : adds) {
                Exec e = f.get(bound.toMillis(), TimeUnit.MILLISECONDS);
                assertThat(e.code()).as("%s", e).isZero();
                eachAdd.accept(e);
                addrs.add(e.json().path("ips").get(0).path("address").asText());
            }
            assertThat(addrs).hasSize(n);
            assertThat(ports(br)).hasSize(n);
            List<Future<Exec>> dels = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                dels.add(pool.submit(() -> cni("nodekit-bridge", "DEL", nss.get(k), ids.get(k), "eth0", conf)));
            }
            for (Future<Exec> f : dels) {
                Exec e = f.get(bound.toMillis(), TimeUnit.MILLISECONDS);
                assertThat(e.code()).as("%s", e).isZero();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(allocations(net)).isEmpty();
        assertThat(ports(br)).isEmpty();
        for (Path ns : nss) {
            deleteNetns(ns);
        }
    }

    /**
     * After an ADD was killed (at {@code when}): the runtime's DEL succeeds and leaves no allocation,
     * veth, container link, masquerade rule or IPAM reservation; then the netns is removed.
     */
    void delReclaimsEverything(String when, Path ns, String id, String conf, String net, String br) throws Exception {
        Exec del = cni("nodekit-bridge", "DEL", ns, id, "eth0", conf);
        assertThat(del.code()).as("DEL after a kill at %s: %s", when, del).isZero();
        assertThat(allocations(net)).as("allocations after a kill at %s", when).isEmpty();
        assertThat(ports(br)).as("veths after a kill at %s", when).isEmpty();
        assertThat(linkIn(ns, "eth0")).isFalse();
        assertThat(natRules(net)).as("rules after a kill at %s", when).isEmpty();
        try (Stream<Path> s = Files.list(ipamDir(net))) {
            assertThat(s.map(f -> f.getFileName().toString())).noneMatch(f -> f.startsWith(".nodekit-reserve."));
        } catch (java.nio.file.NoSuchFileException e) {
            // Killed before IPAM created its directory.
        }
        deleteNetns(ns);
    }

    record Exec(List<String> argv, int code, String out, String err, Duration took) {
        Exec check() {
            if (code != 0) {
                throw new AssertionError(argv + " exited " + code + ": " + out + err);
            }
            return this;
        }

        JsonNode json() throws IOException {
            return JSON.readTree(out);
        }

        int errorCode() throws IOException {
            return json().path("code").asInt(-1);
        }

        @Override
        public String toString() {
            return argv + " exit " + code + " in " + took.toMillis() + " ms: " + out.strip() + " " + err.strip();
        }
    }

    /** Deletes {@code dir} and everything under it (no-op when absent). */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Whether link {@code name} exists in {@code netnsPath}. */
    static boolean linkIn(Path netnsPath, String name) throws Exception {
        return run(List.of("nsenter", "--net=" + netnsPath, "ip", "link", "show", "dev", name), Map.of(), "",
                Duration.ofSeconds(30)).code == 0;
    }

    /** {@code ip -j addr show dev name} inside {@code netnsPath}. */
    static JsonNode addrIn(Path netnsPath, String name) throws Exception {
        return JSON.readTree(run(List.of("nsenter", "--net=" + netnsPath, "ip", "-j", "addr", "show", "dev", name),
                Map.of(), "", Duration.ofSeconds(30)).check().out).get(0);
    }

    @Override
    public void close() throws Exception {
        List<String> problems = new ArrayList<>();
        for (String n : new ArrayList<>(netns)) {
            if (sh("ip", "netns", "del", n).code != 0) {
                problems.add("netns " + n);
            }
        }
        for (String b : bridges) {
            if (Files.exists(Path.of("/sys/class/net", b))) {
                for (String port : ports(b)) {
                    sh("ip", "link", "del", port);
                }
                sh("ip", "link", "del", b);
            }
        }
        for (String n : networks) {
            for (String rule : natRules(n)) {
                String chain = rule.replaceAll(".* -j (CNI-[0-9a-f]+).*", "$1");
                if (chain.startsWith("CNI-")) {
                    for (int fam : new int[] {4, 6}) {
                        try {
                            new IpMasq(new LeanCommandRunner(), Duration.ofSeconds(10)).teardown(chain, fam);
                        } catch (Exception e) {
                            problems.add("chain " + chain + ": " + e.getMessage());
                        }
                    }
                }
            }
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
        if (!problems.isEmpty()) {
            throw new AssertionError("cleanup failed: " + problems);
        }
    }
}
