package dev.nodekit.e2e.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.nodekit.bench.ShimProcess;
import dev.nodekit.cni.install.CniInstaller;
import dev.nodekit.cni.install.InstallException;
import dev.nodekit.cni.install.InstallSpec;
import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.exec.ProcessCommandRunner;
import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.common.metrics.Metrics;
import dev.nodekit.common.mount.MountInfo;
import dev.nodekit.common.mount.Mounts;
import dev.nodekit.crishim.CriShim;
import dev.nodekit.crishim.CriShimConfig;
import dev.nodekit.csi.BackendRegistry;
import dev.nodekit.csi.CsiConfig;
import dev.nodekit.csi.CsiDriver;
import dev.nodekit.csi.spi.StorageBackend;
import dev.nodekit.e2e.CsiDriverProcess;
import dev.nodekit.e2e.containerd.ContainerdFixture;
import io.grpc.ManagedChannel;

/**
 * One Kubernetes node's plugin side, assembled the way a node runs it and started step by step:
 * nodekit's CNI plugins installed into a runtime's bin and conf dirs, a private containerd using
 * them, the CRI shim in front of containerd (kubelet's runtime endpoint), the CSI driver. Everything
 * lives under one run dir and carries one run id ({@link RunMarks}); {@link #close()} removes all of
 * it, whatever state the run reached, and may be called from any thread, any number of times.
 *
 * <p>The shim and the CSI driver run {@linkplain Daemons#IN_PROCESS in this JVM} (the demo: one JVM
 * starts faster) or as {@linkplain Daemons#CHILD_PROCESSES child processes} through
 * {@code bin/nodekit} (the e2e test: exactly what a node runs).
 */
public final class LocalNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalNode.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration DAEMON_START = Duration.ofSeconds(90);
    private static final Path IP_FORWARD = Path.of("/proc/sys/net/ipv4/ip_forward");

    /** Where the CRI shim and the CSI driver run. */
    public enum Daemons {
        /** In this JVM: quicker to start, one process to interrupt. */
        IN_PROCESS,
        /** {@code bin/nodekit cri-shim} and {@code bin/nodekit csi} child processes, as on a node. */
        CHILD_PROCESSES
    }

    /**
     * How to assemble the node.
     *
     * @param parentDir  where the run dir is made (empty: the system temp dir)
     * @param daemons    where the shim and the CSI driver run
     * @param csiBackend the CSI backend kind ({@code local}, {@code rbd} where built)
     * @param csiArgs    more {@code nodekit csi} flags (a backend's own, such as {@code --ceph-config})
     * @param rpcTimeout deadline of each CRI and CSI call
     */
    public record Options(Optional<Path> parentDir, Daemons daemons, String csiBackend, List<String> csiArgs,
            Duration rpcTimeout) {
        public Options {
            Objects.requireNonNull(parentDir, "parentDir");
            Objects.requireNonNull(daemons, "daemons");
            if (csiBackend == null || !csiBackend.matches("[a-z][a-z0-9-]*")) {
                throw new IllegalArgumentException("csiBackend '" + csiBackend + "' is not a backend kind");
            }
            csiArgs = List.copyOf(csiArgs);
            Objects.requireNonNull(rpcTimeout, "rpcTimeout");
        }

        /** System temp dir, daemons in this JVM, the local backend, 120 s per call. */
        public static Options defaults() {
            return new Options(Optional.empty(), Daemons.IN_PROCESS, "local", List.of(), Duration.ofSeconds(120));
        }

        public Options withDaemons(Daemons d) {
            return new Options(parentDir, d, csiBackend, csiArgs, rpcTimeout);
        }

        /** Another CSI backend, with its own {@code nodekit csi} flags. */
        public Options withCsiBackend(String kind, List<String> args) {
            return new Options(parentDir, daemons, kind, args, rpcTimeout);
        }
    }

    private final Options options;
    private final RunMarks marks;
    private final String subnet;
    private final CommandRunner runner;
    private final String ipForwardBefore;
    private final Set<String> recorded = ConcurrentHashMap.newKeySet();
    private final List<String> netnsCreated = new ArrayList<>();
    private final Object lock = new Object();

    private ContainerdFixture containerd;
    private CriShim shim;
    private ShimProcess shimProcess;
    private CsiDriver csiDriver;
    private CsiDriverProcess csiProcess;
    private ManagedChannel criChannel;
    private ManagedChannel csiChannel;
    private boolean closed;

    private LocalNode(Options options, RunMarks marks, String subnet, CommandRunner runner, String ipForwardBefore) {
        this.options = options;
        this.marks = marks;
        this.subnet = subnet;
        this.runner = runner;
        this.ipForwardBefore = ipForwardBefore;
    }

    /** Makes the run dir, picks the run id and a free private /24; starts nothing yet. */
    public static LocalNode create(Options options) throws IOException {
        Path parent = options.parentDir().orElse(Path.of(System.getProperty("java.io.tmpdir")));
        String runId;
        Path dir;
        while (true) {
            runId = String.format(Locale.ROOT, "%08x", ThreadLocalRandom.current().nextInt());
            try {
                // Short and fixed: the sockets under it must stay within the 104 bytes of a unix socket path.
                dir = Files.createDirectory(parent.resolve("nodekit-" + runId),
                        java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                                java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
                break;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // another run has this id: draw again
            }
        }
        String subnet = ContainerdFixture.reserveSubnet();
        String ipForward = Files.exists(IP_FORWARD) ? Files.readString(IP_FORWARD).strip() : "";
        return new LocalNode(options, new RunMarks(runId, dir.toAbsolutePath()), subnet, new ProcessCommandRunner(),
                ipForward);
    }

    public RunMarks marks() {
        return marks;
    }

    /** The pod subnet of the run (a private /24 nothing else on the host uses). */
    public String subnet() {
        return subnet;
    }

    public Options options() {
        return options;
    }

    // ------------------------------------------------------------------------------------------ CNI

    /**
     * {@code nodekit cni install --bin-dir <run>/cni-bin --conf-dir <run>/cni-conf --lib-dir <run>/cni-lib
     * --subnet <subnet> --network nodekit-<id> --bridge nk<id>b}, through its API; then the
     * conflist's IPAM state goes to the run dir ({@code ipam.dataDir}) instead of the host-wide
     * /var/lib/cni/networks, so that the run's allocations are easy to show and to check.
     */
    public CniInstaller.Report installCni() throws IOException, InstallException {
        checkOpen();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        InstallSpec spec = new InstallSpec(marks.cniBinDir(), marks.cniConfDir(), marks.cniLibDir(), java,
                List.of(subnet), marks.network(), marks.bridge(), false, true, true, "warn", Optional.empty());
        CniInstaller.Report report = new CniInstaller(runner, Duration.ofMinutes(2)).install(spec);
        Path conflist = report.conflist().orElseThrow(() -> new IOException("the install wrote no conflist"));
        setIpamDataDir(conflist, marks.ipamDataDir());
        return report;
    }

    /** The conflist written by {@link #installCni()}. */
    public Path conflist() {
        return marks.cniConfDir().resolve(InstallSpec.CONFLIST_NAME);
    }

    private static void setIpamDataDir(Path conflist, Path dataDir) throws IOException {
        JsonNode root = JSON.readTree(conflist.toFile());
        for (JsonNode plugin : root.path("plugins")) {
            if (plugin.path("ipam") instanceof ObjectNode ipam) {
                ipam.put("dataDir", dataDir.toString());
            }
        }
        Path tmp = conflist.resolveSibling("." + conflist.getFileName() + ".tmp");
        Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
        Files.move(tmp, conflist, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    // ------------------------------------------------------------------------------------------ daemons

    /** Starts the private containerd with the run's CNI bin and conf dirs (after {@link #installCni()}). */
    public ContainerdFixture startContainerd() throws IOException {
        checkOpen();
        ContainerdFixture f = ContainerdFixture.start(ContainerdFixture.Options.defaults()
                .withCniBinDir(marks.cniBinDir()).withCniConfDir(marks.cniConfDir()).withParentDir(marks.runDir())
                .withId(marks.containerdId()));
        synchronized (lock) {
            if (!closed) {
                containerd = f;
                return f;
            }
        }
        f.close(); // the node was closed while containerd started: nobody else will
        throw new IOException("node run " + marks.runId() + " closed while containerd started");
    }

    /** Starts the CRI shim on {@link RunMarks#shimSocket()} in front of containerd; returns its endpoint. */
    public String startShim() throws IOException {
        checkOpen();
        ContainerdFixture c = requireContainerd();
        String endpoint = "unix://" + marks.shimSocket();
        if (options.daemons() == Daemons.IN_PROCESS) {
            CriShim s;
            try {
                s = CriShim.start(CriShimConfig.of(marks.shimSocket(), c.endpoint()), Metrics.create(),
                        Clock.systemUTC(), false);
            } catch (Exception e) {
                throw new IOException("the CRI shim did not start: " + e.getMessage(), e);
            }
            synchronized (lock) {
                shim = s;
            }
        } else {
            ShimProcess p = ShimProcess.start(marks.shimSocket(), c.endpoint(), marks.runDir().resolve("cri-shim.log"));
            synchronized (lock) {
                shimProcess = p;
            }
            try {
                p.awaitServing(DAEMON_START);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while the CRI shim started", e);
            } catch (IllegalStateException e) {
                throw new IOException(e.getMessage() + "; log: " + marks.runDir().resolve("cri-shim.log"), e);
            }
        }
        synchronized (lock) {
            criChannel = UdsChannels.forTarget(endpoint);
        }
        return endpoint;
    }

    /** Starts the CSI driver (controller and node services) on {@link RunMarks#csiSocket()}; returns its endpoint. */
    public String startCsi() throws IOException {
        checkOpen();
        Files.createDirectories(marks.csiDir());
        String nodeId = "node-" + marks.runId();
        if (options.daemons() == Daemons.IN_PROCESS) {
            CsiConfig config = new CsiConfig(marks.csiSocket(), nodeId, options.csiBackend(), marks.csiDataDir(),
                    CsiConfig.Mode.ALL, CsiConfig.DEFAULT_DRIVER_NAME, 0, CsiConfig.defaultTopologyKey(
                            CsiConfig.DEFAULT_DRIVER_NAME), Optional.empty(), CsiConfig.defaultMaxHeavyOperations());
            if (!options.csiArgs().isEmpty()) {
                throw new IllegalStateException("backend flags " + options.csiArgs() + " need Daemons.CHILD_PROCESSES");
            }
            CsiDriver.Environment env = CsiDriver.Environment.system();
            try {
                StorageBackend backend = BackendRegistry.builtIn().open(options.csiBackend(), new BackendRegistry.Context(
                        marks.csiDataDir(), nodeId, env.runner(), env.clock(), env.metrics()));
                CsiDriver d;
                try {
                    d = CsiDriver.start(config, backend, env);
                } catch (Exception e) {
                    backend.close();
                    throw e;
                }
                synchronized (lock) {
                    csiDriver = d;
                }
            } catch (IOException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException("the CSI driver did not start: " + e.getMessage(), e);
            }
        } else {
            CsiDriverProcess.Spec spec = new CsiDriverProcess.Spec(marks.csiDir(), marks.csiDataDir(), nodeId,
                    withBackend(options.csiBackend(), options.csiArgs()), java.util.Map.of());
            CsiDriverProcess p = CsiDriverProcess.start(spec, DAEMON_START);
            synchronized (lock) {
                csiProcess = p;
            }
        }
        synchronized (lock) {
            csiChannel = UdsChannels.forTarget("unix://" + marks.csiSocket());
        }
        return "unix://" + marks.csiSocket();
    }

    /** {@code --backend KIND} among the extra flags; without it {@link CsiDriverProcess} runs the local backend. */
    private static List<String> withBackend(String kind, List<String> args) {
        List<String> out = new ArrayList<>(args);
        if (!kind.equals("local")) {
            out.add("--backend");
            out.add(kind);
        }
        return out;
    }

    /** The channel to kubelet's runtime endpoint: the shim (after {@link #startShim()}). */
    public ManagedChannel cri() {
        synchronized (lock) {
            return Objects.requireNonNull(criChannel, "the shim is not started");
        }
    }

    /** The channel to the CSI driver (after {@link #startCsi()}). */
    public ManagedChannel csi() {
        synchronized (lock) {
            return Objects.requireNonNull(csiChannel, "the CSI driver is not started");
        }
    }

    /** The containerd started by {@link #startContainerd()}. */
    public ContainerdFixture containerd() {
        return requireContainerd();
    }

    /** True when {@link #startContainerd()} succeeded (also after {@link #close()}). */
    public boolean containerdStarted() {
        synchronized (lock) {
            return containerd != null;
        }
    }

    /** PID of the shim and of the CSI driver when they are child processes. */
    public List<Long> childPids() {
        List<Long> out = new ArrayList<>();
        synchronized (lock) {
            if (shimProcess != null) {
                out.add(shimProcess.pid());
            }
            if (csiProcess != null) {
                out.add(csiProcess.pid());
            }
        }
        return out;
    }

    /** kubelet's side of the run on the local backend's storage class (ext4, no parameters or secrets). */
    public Kubelet kubelet() {
        return kubelet(Kubelet.StorageClass.localExt4());
    }

    /** kubelet's side of the run: CSI calls in kubelet's order and paths, pods and containers through the shim. */
    public Kubelet kubelet(Kubelet.StorageClass storageClass) {
        ContainerdFixture c;
        ManagedChannel cri;
        synchronized (lock) {
            c = containerd;
            cri = criChannel;
        }
        return new Kubelet(csi(), cri, marks, Optional.ofNullable(c), options.rpcTimeout(), storageClass);
    }

    /** Plain network namespaces attached with the installed plugins (the CNI part without a runtime). */
    public NetnsPods netnsPods() {
        return new NetnsPods(this);
    }

    // ------------------------------------------------------------------------------------------ records

    /** Host veths now on the run's bridge; recorded, so the leak check looks for them after the bridge is gone. */
    public List<String> bridgePorts() throws IOException {
        List<String> out = new ArrayList<>();
        CommandResult r = run(Duration.ofSeconds(20), "ip", "-o", "link", "show", "master", marks.bridge());
        if (!r.succeeded()) {
            return out;
        }
        for (String line : r.stdoutLines()) {
            String[] f = line.split(":\\s+", 3);
            if (f.length >= 2) {
                String name = f[1].contains("@") ? f[1].substring(0, f[1].indexOf('@')) : f[1];
                out.add(name);
                recorded.add(name);
            }
        }
        return out;
    }

    /** Masquerade chains ({@code CNI-...}) whose rules name the run's network; recorded for the leak check. */
    public List<String> masqueradeChains() throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : run(Duration.ofSeconds(20), "iptables-save", "-t", "nat").stdoutLines()) {
            if (line.startsWith("-A ") && line.contains(marks.network())) {
                String[] f = line.split("\\s+");
                for (int i = 0; i + 1 < f.length; i++) {
                    if (f[i].equals("-j") && f[i + 1].startsWith("CNI-")) {
                        out.add(f[i + 1]);
                        recorded.add(f[i + 1]);
                    }
                }
                if (f[1].startsWith("CNI-")) {
                    out.add(f[1]);
                    recorded.add(f[1]);
                }
            }
        }
        return out.stream().distinct().toList();
    }

    /** Everything of the run on the host now (see {@link Footprint}). */
    public Footprint footprint() throws IOException {
        return Footprint.scan(marks, Set.copyOf(recorded), subnet, runner);
    }

    void recordNetns(String name) {
        synchronized (lock) {
            netnsCreated.add(name);
        }
    }

    // ------------------------------------------------------------------------------------------ teardown

    /** True once {@link #close()} has begun. */
    public boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    /**
     * Removes everything of the run, whatever it reached, in the reverse order of a node's start:
     * the shim; pods (through containerd itself, so CNI DEL runs) and containerd; volumes still mounted
     * under kubelet's dir (unmounted), the CSI driver, loop devices backed by its data dir; plain
     * network namespaces (CNI DEL, then deleted); masquerade rules and chains of the run's network;
     * the bridge; {@code net.ipv4.ip_forward} (when no containerd restored it); the run dir.
     * Needs no RPC to the shim or the CSI driver, so it also works after they died or were closed
     * by a signal. Every step runs; what could not be undone is thrown at the end.
     *
     * @throws IllegalStateException naming what could not be removed
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        List<String> problems = new ArrayList<>();
        if (criChannel != null) {
            criChannel.shutdownNow();
        }
        if (csiChannel != null) {
            csiChannel.shutdownNow();
        }
        if (shim != null) {
            shim.close();
        }
        if (shimProcess != null) {
            try {
                shimProcess.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problems.add("interrupted while stopping the shim " + shimProcess.pid());
            }
        }
        if (containerd != null) {
            try {
                containerd.close(); // removes the pods through containerd itself, so CNI DEL runs
            } catch (RuntimeException e) {
                problems.add(e.getMessage());
            }
        }
        unmountUnder(marks.kubeletDir(), problems);
        if (csiDriver != null) {
            try {
                csiDriver.close();
            } catch (RuntimeException e) {
                problems.add("CSI driver close: " + e.getMessage());
            }
        }
        if (csiProcess != null) {
            csiProcess.stop(Duration.ofSeconds(20));
        }
        detachLoopsUnder(marks.csiDir(), problems);
        unmountUnder(marks.runDir(), problems);
        List<String> netns;
        synchronized (lock) {
            netns = List.copyOf(netnsCreated);
        }
        if (!netns.isEmpty()) {
            new NetnsPods(this).removeAll(netns, problems);
        }
        removeMasquerade(problems);
        deleteLink(marks.bridge(), problems);
        if (containerd == null) {
            restoreIpForward(problems);
        }
        ContainerdFixture.releaseSubnet(subnet);
        try {
            deleteTree(marks.runDir());
        } catch (IOException e) {
            problems.add("cannot delete " + marks.runDir() + ": " + e.getMessage());
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("node run " + marks.runId() + " teardown: " + String.join("; ", problems));
        }
        LOG.atInfo().addKeyValue("run_id", marks.runId()).log("node run torn down");
    }

    private void unmountUnder(Path dir, List<String> problems) {
        try {
            List<Path> points = new ArrayList<>();
            for (MountInfo m : Mounts.system().list()) {
                if (m.mountPoint().startsWith(dir)) {
                    points.add(m.mountPoint());
                }
            }
            points.sort(Comparator.comparingInt(Path::getNameCount).reversed());
            for (Path p : points) {
                LOG.atWarn().addKeyValue("path", p).log("unmounting what the run left mounted");
                CommandResult r = run(Duration.ofSeconds(30), "umount", "--", p.toString());
                if (!r.succeeded() && !run(Duration.ofSeconds(30), "umount", "-l", "--", p.toString()).succeeded()) {
                    problems.add("cannot unmount " + p + ": " + r.stderr().strip());
                }
            }
        } catch (IOException e) {
            problems.add("mounts under " + dir + ": " + e.getMessage());
        }
    }

    private void detachLoopsUnder(Path dir, List<String> problems) {
        try {
            for (String line : run(Duration.ofSeconds(20), "losetup", "-a", "-n", "-O", "NAME,BACK-FILE").stdoutLines()) {
                String[] f = line.trim().split("\\s+", 2);
                if (f.length == 2 && f[1].startsWith(dir + "/")) {
                    LOG.atWarn().addKeyValue("device", f[0]).log("detaching a loop device the run left");
                    CommandResult r = run(Duration.ofSeconds(20), "losetup", "-d", f[0]);
                    if (!r.succeeded()) {
                        problems.add("losetup -d " + f[0] + ": " + r.stderr().strip());
                    }
                }
            }
        } catch (IOException e) {
            problems.add("loop devices: " + e.getMessage());
        }
    }

    /**
     * The bridge plugin's DEL removes a pod's masquerade rule and chain; a pod whose DEL never ran
     * (containerd killed) leaves them. Rules naming the run's network go by number, deepest first,
     * then the chains they jumped to.
     */
    private void removeMasquerade(List<String> problems) {
        try {
            masqueradeChains();
            CommandResult r = run(Duration.ofSeconds(20), "iptables", "-t", "nat", "-L", "POSTROUTING", "-n",
                    "--line-numbers");
            List<Integer> numbers = new ArrayList<>();
            for (String line : r.stdoutLines()) {
                if (line.contains(marks.network()) && !line.isBlank() && Character.isDigit(line.charAt(0))) {
                    numbers.add(Integer.parseInt(line.split("\\s+")[0]));
                }
            }
            numbers.sort(Comparator.reverseOrder());
            for (int n : numbers) {
                LOG.atWarn().addKeyValue("rule", n).log("deleting a masquerade rule the run left");
                run(Duration.ofSeconds(20), "iptables", "-t", "nat", "-D", "POSTROUTING", Integer.toString(n));
            }
            for (String chain : recorded) {
                if (chain.startsWith("CNI-") && run(Duration.ofSeconds(20), "iptables", "-t", "nat", "-S", chain)
                        .succeeded()) {
                    LOG.atWarn().addKeyValue("chain", chain).log("deleting a masquerade chain the run left");
                    run(Duration.ofSeconds(20), "iptables", "-t", "nat", "-F", chain);
                    CommandResult x = run(Duration.ofSeconds(20), "iptables", "-t", "nat", "-X", chain);
                    if (!x.succeeded()) {
                        problems.add("iptables -X " + chain + ": " + x.stderr().strip());
                    }
                }
            }
        } catch (IOException e) {
            problems.add("iptables: " + e.getMessage());
        }
    }

    private void deleteLink(String name, List<String> problems) {
        try {
            if (run(Duration.ofSeconds(20), "ip", "link", "show", name).succeeded()) {
                CommandResult r = run(Duration.ofSeconds(20), "ip", "link", "del", name);
                if (!r.succeeded()) {
                    problems.add("ip link del " + name + ": " + r.stderr().strip());
                }
            }
        } catch (IOException e) {
            problems.add("link " + name + ": " + e.getMessage());
        }
    }

    /** The bridge plugin's isGateway turns forwarding on; put back what the run found. */
    private void restoreIpForward(List<String> problems) {
        try {
            if (!ipForwardBefore.isEmpty() && !Files.readString(IP_FORWARD).strip().equals(ipForwardBefore)) {
                Files.writeString(IP_FORWARD, ipForwardBefore + "\n");
            }
        } catch (IOException e) {
            problems.add("cannot restore net.ipv4.ip_forward=" + ipForwardBefore + ": " + e.getMessage());
        }
    }

    /** Deletes the run dir unless something is still mounted below it (then it must stay). */
    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        for (MountInfo m : Mounts.system().list()) {
            if (m.mountPoint().startsWith(dir)) {
                throw new IOException("kept: " + m.mountPoint() + " is still mounted");
            }
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    private ContainerdFixture requireContainerd() {
        synchronized (lock) {
            if (containerd == null) {
                throw new IllegalStateException("containerd is not started");
            }
            return containerd;
        }
    }

    private void checkOpen() throws IOException {
        synchronized (lock) {
            if (closed) {
                throw new IOException("node run " + marks.runId() + " is closed");
            }
        }
    }

    CommandResult run(Duration timeout, String... argv) throws IOException {
        try {
            return runner.run(Command.of(argv).withTimeout(timeout));
        } catch (CommandException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "node run " + marks.runId() + " at " + marks.runDir();
    }

    static void sleep(long ms) {
        try {
            TimeUnit.MILLISECONDS.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
