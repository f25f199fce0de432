package dev.nodekit.e2e.containerd;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.common.exec.Executables;
import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.conformance.cri.CriTarget;
import dev.nodekit.spec.cri.v1.ImageSpec;
import dev.nodekit.spec.cri.v1.ImageStatusRequest;
import dev.nodekit.spec.cri.v1.ImageServiceGrpc;
import dev.nodekit.spec.cri.v1.ListPodSandboxRequest;
import dev.nodekit.spec.cri.v1.PodSandbox;
import dev.nodekit.spec.cri.v1.RemovePodSandboxRequest;
import dev.nodekit.spec.cri.v1.RuntimeServiceGrpc;
import dev.nodekit.spec.cri.v1.StatusRequest;
import dev.nodekit.spec.cri.v1.StopPodSandboxRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;

/**
 * A private containerd 1.6 (Debian's package, runc, the CRI plugin) for integration tests and
 * {@code nodekit demo}, started offline under one temp directory, with a busybox image and a pause image built locally from
 * busybox-static and imported with {@code ctr}. Nothing is ever pulled.
 *
 * <p>Use {@link #shared()} (one instance per test JVM, closed at the end of the JUnit run by
 * {@link ContainerdExtension} or at JVM exit) or {@link #start(Options)} for an instance of your
 * own (two runtimes side by side, a custom CNI bin/conf dir); {@link #close()} undoes everything the
 * instance did to the host. Point a CRI client at {@link #endpoint()}; {@link #criConfig()} is the
 * conformance suite's target for it. Pods must be created under {@link #cgroupParent()} (the
 * suite's config does that), so that teardown can remove their cgroup directories.
 *
 * <p>See {@code package-info.java} for the directory layout and the teardown order.
 */
public final class ContainerdFixture implements AutoCloseable {
    /** containerd 1.6's default sandbox image; the fixture's pause image is imported under this exact name. */
    public static final String DEFAULT_SANDBOX_IMAGE = "registry.k8s.io/pause:3.6";
    /** The busybox image every instance holds (same as the conformance suite's default). */
    public static final String BUSYBOX_IMAGE = CriTarget.DEFAULT_IMAGE;

    private static final Logger LOG = LoggerFactory.getLogger(ContainerdFixture.class);
    private static final Pattern SAFE_PATH = Pattern.compile("[A-Za-z0-9_./:@+-]+");
    private static final Pattern HANDLER = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?");
    private static final Set<String> SUBNETS_IN_USE = new HashSet<>();
    private static ContainerdFixture shared;

    /**
     * How to start an instance.
     *
     * @param cniBinDir       the one CNI bin dir (containerd 1.6 takes one); empty = a dir of symlinks to /usr/lib/cni/*
     * @param cniConfDir      CNI conf dir; empty = a dir with a bridge + host-local conflist on a private /24
     * @param sandboxImage    sandbox_image; the pause image is imported under exactly this name
     * @param snapshotter     overlayfs, or native where overlay-on-overlay fails
     * @param runtimeHandlers extra runtime handler names, each a runc runtime like the default "runc"
     * @param logLevel        containerd's log level
     * @param bootTimeout     how long to wait for "containerd successfully booted"
     * @param parentDir       a dir to make the instance's dir in, named {@code containerd} (one instance
     *                        per parent); empty = a new dir in the system temp dir
     * @param id              the instance id in every host name it makes (dir, cgroup parent, default
     *                        bridge); 1-12 lower-case letters/digits; empty = 8 random hex digits
     */
    public record Options(Optional<Path> cniBinDir, Optional<Path> cniConfDir, String sandboxImage, String snapshotter,
            List<String> runtimeHandlers, String logLevel, Duration bootTimeout, Optional<Path> parentDir,
            Optional<String> id) {
        public Options {
            Objects.requireNonNull(parentDir, "parentDir");
            Objects.requireNonNull(id, "id");
            parentDir.ifPresent(p -> requireSafe(p.toString(), "parentDir"));
            id.ifPresent(i -> {
                if (!i.matches("[a-z0-9]{1,12}")) {
                    throw new IllegalArgumentException("id '" + i + "' must be 1-12 lower-case letters or digits");
                }
            });
            Objects.requireNonNull(cniBinDir, "cniBinDir");
            Objects.requireNonNull(cniConfDir, "cniConfDir");
            cniBinDir.ifPresent(p -> requireSafe(p.toString(), "cniBinDir"));
            cniConfDir.ifPresent(p -> requireSafe(p.toString(), "cniConfDir"));
            requireSafe(sandboxImage, "sandboxImage");
            if (!sandboxImage.contains("/") || !sandboxImage.contains(":")) {
                throw new IllegalArgumentException("sandboxImage '" + sandboxImage
                        + "' needs a registry part and a tag, e.g. registry.k8s.io/pause:3.6");
            }
            if (!snapshotter.equals("overlayfs") && !snapshotter.equals("native")) {
                throw new IllegalArgumentException("snapshotter must be overlayfs or native, got " + snapshotter);
            }
            runtimeHandlers = List.copyOf(runtimeHandlers);
            for (String h : runtimeHandlers) {
                if (!HANDLER.matcher(h).matches() || h.equals("runc")) {
                    throw new IllegalArgumentException("runtime handler '" + h + "' must be lower-case dns-label "
                            + "style and not 'runc' (always present)");
                }
            }
            if (!List.of("trace", "debug", "info", "warn", "error").contains(logLevel)) {
                throw new IllegalArgumentException("logLevel must be trace|debug|info|warn|error, got " + logLevel);
            }
            Objects.requireNonNull(bootTimeout, "bootTimeout");
        }

        /** Default CNI dirs, {@link #DEFAULT_SANDBOX_IMAGE}, overlayfs, only the runc handler, info, 30 s. */
        public static Options defaults() {
            return new Options(Optional.empty(), Optional.empty(), DEFAULT_SANDBOX_IMAGE, "overlayfs", List.of(), "info",
                    Duration.ofSeconds(30), Optional.empty(), Optional.empty());
        }

        public Options withCniBinDir(Path p) {
            return new Options(Optional.of(p), cniConfDir, sandboxImage, snapshotter, runtimeHandlers, logLevel, bootTimeout, parentDir, id);
        }

        public Options withCniConfDir(Path p) {
            return new Options(cniBinDir, Optional.of(p), sandboxImage, snapshotter, runtimeHandlers, logLevel, bootTimeout, parentDir, id);
        }

        public Options withSnapshotter(String s) {
            return new Options(cniBinDir, cniConfDir, sandboxImage, s, runtimeHandlers, logLevel, bootTimeout, parentDir, id);
        }

        public Options withRuntimeHandlers(String... names) {
            return new Options(cniBinDir, cniConfDir, sandboxImage, snapshotter, List.of(names), logLevel, bootTimeout, parentDir, id);
        }

        /** The instance's dir goes under {@code p} (a run dir that holds everything of one run). */
        public Options withParentDir(Path p) {
            return new Options(cniBinDir, cniConfDir, sandboxImage, snapshotter, runtimeHandlers, logLevel, bootTimeout,
                    Optional.of(p), id);
        }

        /** The instance id used in its dir, cgroup parent and default bridge name. */
        public Options withId(String i) {
            return new Options(cniBinDir, cniConfDir, sandboxImage, snapshotter, runtimeHandlers, logLevel, bootTimeout,
                    parentDir, Optional.of(i));
        }

        public Options withLogLevel(String l) {
            return new Options(cniBinDir, cniConfDir, sandboxImage, snapshotter, runtimeHandlers, l, bootTimeout, parentDir, id);
        }
    }

    /**
     * How long start-up took: building the image archive, containerd's boot (to "successfully
     * booted"), {@code ctr images import}, and the whole of {@link #start} (directories, CNI config,
     * the CRI check that both images resolve).
     */
    public record Timings(Duration imageBuild, Duration boot, Duration imageImport, Duration total) {
    }

    private final String id;
    private final Options options;
    private final Path dir;
    private final Path socket;
    private final Path config;
    private final Path log;
    private final Path cniBinDir;
    private final Path cniConfDir;
    private final Optional<String> bridge;
    private final Optional<String> subnet;
    private final String cgroupName;
    private Process daemon;
    private Timings timings;
    private volatile boolean closed;

    private ContainerdFixture(String id, Options options, Path dir, Optional<String> subnet) {
        this.id = id;
        this.options = options;
        this.dir = dir;
        this.socket = dir.resolve("containerd.sock");
        this.config = dir.resolve("config.toml");
        this.log = dir.resolve("containerd.log");
        this.cniBinDir = options.cniBinDir().orElse(dir.resolve("cni-bin"));
        this.cniConfDir = options.cniConfDir().orElse(dir.resolve("net.d"));
        this.subnet = subnet;
        this.bridge = subnet.map(s -> "nkc" + id);
        this.cgroupName = "nodekit-ctrd-" + id;
    }

    /** The instance shared by every test of this JVM, started on first use; closed at the end of the run. */
    public static synchronized ContainerdFixture shared() throws IOException {
        if (shared == null || shared.closed) {
            ContainerdFixture f = start(Options.defaults());
            Runtime.getRuntime().addShutdownHook(new Thread(f::closeQuietly, "containerd-fixture-" + f.id + "-close"));
            shared = f;
        }
        return shared;
    }

    /** Closes the shared instance if one was started (the JUnit extension calls this at the end of the run). */
    static synchronized void closeShared() {
        if (shared != null) {
            ContainerdFixture f = shared;
            shared = null;
            f.close();
        }
    }

    /** Starts a new private instance: config, CNI dirs, containerd, image import. Undoes its work if a step fails. */
    public static ContainerdFixture start(Options options) throws IOException {
        long start = System.nanoTime();
        String id = options.id().orElseGet(() -> String.format(Locale.ROOT, "%08x", ThreadLocalRandom.current().nextInt()));
        String prefix = "nodekit-ctrd-" + id + "-";
        // Under a caller's dir the name is short and fixed: unix socket paths must stay within 104 bytes.
        Path dir = options.parentDir().isPresent() ? Files.createDirectory(options.parentDir().get().resolve("containerd"))
                : Files.createTempDirectory(prefix);
        requireSafe(dir.toString(), "temp dir");
        Optional<String> subnet = options.cniConfDir().isPresent() ? Optional.empty() : Optional.of(pickSubnet());
        ContainerdFixture f = new ContainerdFixture(id, options, dir, subnet);
        HostState.acquire();
        try {
            f.startAll(start);
            return f;
        } catch (IOException | RuntimeException e) {
            LOG.atError().addKeyValue("dir", dir).addKeyValue("log", f.logTail(40)).log("containerd fixture failed to start");
            f.closeQuietly();
            throw e;
        }
    }

    private void startAll(long start) throws IOException {
        Files.createDirectories(dir.resolve("root"));
        Files.createDirectories(dir.resolve("state"));
        Files.createDirectories(dir.resolve("tmp"));
        Files.createDirectories(dir.resolve("runc"));
        Files.createDirectories(podLogRoot());
        if (options.cniBinDir().isEmpty()) {
            writeCniBinDir();
        }
        if (options.cniConfDir().isEmpty()) {
            writeCniConf();
        }
        Files.writeString(config, configToml());

        long t0 = System.nanoTime();
        Path archive = OciImages.build(dir.resolve("image-build"), Executables.which("busybox")
                .orElseThrow(() -> new IOException("busybox not found (package busybox-static)")),
                options.sandboxImage(), BUSYBOX_IMAGE);
        long t1 = System.nanoTime();
        startDaemon();
        long t2 = System.nanoTime();
        Host.run(Duration.ofMinutes(2), List.of("ctr", "-a", socket.toString(), "-n", "k8s.io", "images", "import",
                "--platform", "linux/amd64", "--snapshotter", options.snapshotter(), archive.toString())).check();
        long t3 = System.nanoTime();
        Host.deleteTree(dir.resolve("image-build"));
        verifyImages();
        timings = new Timings(Duration.ofNanos(t1 - t0), Duration.ofNanos(t2 - t1), Duration.ofNanos(t3 - t2),
                Duration.ofNanos(System.nanoTime() - start));
        LOG.atInfo().addKeyValue("socket", socket).addKeyValue("pid", pid())
                .addKeyValue("image_build_ms", timings.imageBuild().toMillis())
                .addKeyValue("boot_ms", timings.boot().toMillis())
                .addKeyValue("import_ms", timings.imageImport().toMillis())
                .addKeyValue("total_ms", timings.total().toMillis())
                .addKeyValue("subnet", subnet.orElse("caller's")).log("containerd fixture ready");
    }

    private void writeCniBinDir() throws IOException {
        Files.createDirectories(cniBinDir);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/usr/lib/cni"))) {
            for (Path p : ds) {
                Files.createSymbolicLink(cniBinDir.resolve(p.getFileName()), p);
            }
        }
    }

    private void writeCniConf() throws IOException {
        Files.createDirectories(cniConfDir);
        Files.createDirectories(dir.resolve("cni-ipam"));
        String conf = """
                {
                  "cniVersion": "1.0.0",
                  "name": "nodekit-%s",
                  "plugins": [
                    {
                      "type": "bridge",
                      "bridge": "%s",
                      "isGateway": true,
                      "ipMasq": false,
                      "hairpinMode": true,
                      "ipam": {
                        "type": "host-local",
                        "dataDir": "%s",
                        "ranges": [[{"subnet": "%s"}]],
                        "routes": [{"dst": "0.0.0.0/0"}]
                      }
                    }
                  ]
                }
                """.formatted(id, bridge.orElseThrow(), dir.resolve("cni-ipam"), subnet.orElseThrow());
        Files.writeString(cniConfDir.resolve("10-nodekit.conflist"), conf);
    }

    /** The config.toml; it must start with {@code version = 2} or containerd 1.6 silently ignores the CRI section. */
    String configToml() {
        StringBuilder extra = new StringBuilder();
        for (String h : options.runtimeHandlers()) {
            extra.append(runtimeSection(h));
        }
        return """
                version = 2
                root = "%1$s/root"
                state = "%1$s/state"
                temp = "%1$s/tmp"
                oom_score = 0
                # useless here; "opt" would create /opt/containerd
                disabled_plugins = [
                  "io.containerd.snapshotter.v1.aufs",
                  "io.containerd.snapshotter.v1.btrfs",
                  "io.containerd.snapshotter.v1.zfs",
                  "io.containerd.snapshotter.v1.devmapper",
                  "io.containerd.internal.v1.opt",
                ]

                [grpc]
                  address = "%2$s"
                  max_recv_message_size = 16777216
                  max_send_message_size = 16777216

                [ttrpc]
                  address = "%2$s.ttrpc"

                [debug]
                  level = "%3$s"

                [plugins]
                  [plugins."io.containerd.grpc.v1.cri"]
                    sandbox_image = "%4$s"
                    # netns bind mounts under <state>, not the host-wide /var/run/netns
                    netns_mounts_under_state_dir = true
                    stream_server_address = "127.0.0.1"
                    stream_server_port = "0"
                    disable_tcp_service = true
                    enable_selinux = false
                    disable_apparmor = true
                    tolerate_missing_hugetlb_controller = true
                    disable_hugetlb_controller = true
                    systemd_cgroup = false
                    # without CAP_SYS_RESOURCE runc cannot set the sandbox's oom_score_adj of -998
                    restrict_oom_score_adj = true
                    [plugins."io.containerd.grpc.v1.cri".cni]
                      bin_dir = "%5$s"
                      conf_dir = "%6$s"
                      max_conf_num = 1
                    [plugins."io.containerd.grpc.v1.cri".containerd]
                      snapshotter = "%7$s"
                      default_runtime_name = "runc"
                %8$s%9$s""".formatted(dir, socket, options.logLevel(), options.sandboxImage(), cniBinDir, cniConfDir,
                options.snapshotter(), runtimeSection("runc"), extra);
    }

    private String runtimeSection(String name) {
        return """
                      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%1$s]
                        runtime_type = "io.containerd.runc.v2"
                        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%1$s.options]
                          SystemdCgroup = false
                          BinaryName = "%2$s"
                          Root = "%3$s/runc"
                """.formatted(name, Executables.which("runc").map(Path::toString).orElse("/usr/sbin/runc"), dir);
    }

    private void startDaemon() throws IOException {
        Files.deleteIfExists(socket);
        Files.deleteIfExists(Path.of(socket + ".ttrpc"));
        if (!Files.exists(log)) {
            Files.createFile(log);
        }
        long logStart = Files.size(log);
        String containerd = Executables.which("containerd").orElseThrow(() -> new IOException("containerd not found"))
                .toString();
        // setsid: own session and process group, so nothing signals it but us (by PID). Java's child is
        // not a group leader, so setsid execs in place and the PID we hold is containerd's.
        daemon = new ProcessBuilder("setsid", containerd, "--config", config.toString())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + options.bootTimeout().toNanos();
        while (true) {
            if (!daemon.isAlive()) {
                throw new IOException("containerd exited with " + daemon.exitValue() + " during start-up; log:\n" + logTail(30));
            }
            if (Files.exists(socket) && logSince(logStart).contains("containerd successfully booted")) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("containerd did not boot within " + options.bootTimeout().toSeconds() + " s; log:\n"
                        + logTail(30));
            }
            sleep(20);
        }
        String exe = Files.readSymbolicLink(Path.of("/proc", Long.toString(daemon.pid()), "exe")).toString();
        if (!exe.endsWith("/containerd")) {
            throw new IOException("pid " + daemon.pid() + " is " + exe + ", not containerd (setsid forked?)");
        }
        awaitCri(deadline);
    }

    /**
     * "successfully booted" comes before the CRI plugin has recovered its pods (a restart with pods
     * takes a while): until then every CRI call answers UNKNOWN "server is not initialized yet".
     */
    private void awaitCri(long deadline) throws IOException {
        ManagedChannel ch = openChannel();
        try {
            while (true) {
                try {
                    RuntimeServiceGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS)
                            .status(StatusRequest.getDefaultInstance());
                    return;
                } catch (StatusRuntimeException e) {
                    if (System.nanoTime() > deadline || !daemon.isAlive()) {
                        throw new IOException("containerd's CRI service did not become ready: " + e.getStatus()
                                + "; log:\n" + logTail(30), e);
                    }
                }
                sleep(20);
            }
        } finally {
            ch.shutdownNow();
        }
    }

    private void verifyImages() throws IOException {
        ManagedChannel ch = openChannel();
        try {
            var images = ImageServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
            for (String ref : List.of(options.sandboxImage(), BUSYBOX_IMAGE)) {
                if (!images.imageStatus(ImageStatusRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(ref))
                        .build()).hasImage()) {
                    throw new IOException("image " + ref + " was imported but CRI ImageStatus does not find it");
                }
            }
        } finally {
            ch.shutdownNow();
        }
    }

    // ---------------------------------------------------------------------------------------------- accessors

    /** The instance id in its dir name, cgroup parent and default bridge name. */
    public String id() {
        return id;
    }

    /** {@code unix:///tmp/nodekit-ctrd-<id>-.../containerd.sock}. */
    public String endpoint() {
        return "unix://" + socket;
    }

    public Path socket() {
        return socket;
    }

    /**
     * Runs {@code ctr -a SOCKET ARGS...} (containerd's own client, grpc-go) with a 60 s limit and
     * returns its result, whatever the exit code. {@code socket} may be a containerd's or a proxy's.
     */
    public static dev.nodekit.common.exec.CommandResult ctr(Path socket, String... args)
            throws dev.nodekit.common.exec.CommandException {
        List<String> argv = new ArrayList<>(List.of("ctr", "-a", socket.toString()));
        argv.addAll(List.of(args));
        return new dev.nodekit.common.exec.ProcessCommandRunner().run(argv, Duration.ofSeconds(60));
    }

    /** The instance's directory: root, state, tmp, runc, config.toml, containerd.log, CNI dirs, pod logs. */
    public Path dir() {
        return dir;
    }

    /** containerd's PID (the one teardown signals). */
    public long pid() {
        return daemon.pid();
    }

    /** True while the containerd process started last is alive. */
    public boolean isDaemonAlive() {
        return daemon != null && daemon.isAlive();
    }

    public String busyboxImage() {
        return BUSYBOX_IMAGE;
    }

    public String pauseImage() {
        return options.sandboxImage();
    }

    /** {@code /nodekit-ctrd-<id>}: the cgroup parent pods of this instance must live under (cgroupfs). */
    public String cgroupParent() {
        return "/" + cgroupName;
    }

    /** The /24 of the default CNI config; empty when the caller gave the conf dir. */
    public Optional<String> podSubnet() {
        return subnet;
    }

    /** The bridge of the default CNI config (created on the first pod); empty when the caller gave the conf dir. */
    public Optional<String> bridge() {
        return bridge;
    }

    public Path cniBinDir() {
        return cniBinDir;
    }

    public Path cniConfDir() {
        return cniConfDir;
    }

    public Path logFile() {
        return log;
    }

    /** Where the default CRI target puts pod log directories. */
    public Path podLogRoot() {
        return dir.resolve("pod-logs");
    }

    public Timings timings() {
        return timings;
    }

    /** The conformance suite's target for this instance: its endpoint, busybox image, cgroup parent, log root. */
    public CriTarget.Config criConfig() {
        return CriTarget.Config.of(endpoint()).withImage(BUSYBOX_IMAGE).withCgroupParent(cgroupParent())
                .withLogRoot(podLogRoot());
    }

    /** A new gRPC channel to the instance (the caller shuts it down). */
    public ManagedChannel openChannel() {
        return UdsChannels.forTarget(endpoint());
    }

    /** The last {@code lines} lines of containerd's log (for failure messages). */
    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private String logSince(long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long len = f.length();
            if (len <= offset) {
                return "";
            }
            byte[] b = new byte[(int) Math.min(len - offset, 1 << 20)];
            f.seek(offset);
            f.readFully(b);
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    // ---------------------------------------------------------------------------------------------- lifecycle

    /** Stops and removes every pod through CRI (so CNI DEL runs); returns how many were removed. */
    public int removeAllPods() throws IOException {
        ManagedChannel ch = openChannel();
        List<String> problems = new ArrayList<>();
        int removed = 0;
        try {
            var rt = RuntimeServiceGrpc.newBlockingStub(ch);
            for (PodSandbox p : rt.withDeadlineAfter(30, TimeUnit.SECONDS)
                    .listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
                try {
                    rt.withDeadlineAfter(60, TimeUnit.SECONDS)
                            .stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(p.getId()).build());
                    rt.withDeadlineAfter(60, TimeUnit.SECONDS)
                            .removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(p.getId()).build());
                    removed++;
                } catch (RuntimeException e) {
                    problems.add("pod " + p.getId() + " (" + p.getMetadata().getName() + "): " + e.getMessage());
                }
            }
        } catch (RuntimeException e) {
            problems.add("ListPodSandbox: " + e.getMessage());
        } finally {
            ch.shutdownNow();
        }
        if (!problems.isEmpty()) {
            throw new IOException("cannot remove every pod: " + String.join("; ", problems));
        }
        return removed;
    }

    /** SIGKILLs containerd (shims and pods keep running, as on a real node). */
    public void killDaemon() throws InterruptedException {
        if (daemon != null && daemon.isAlive()) {
            daemon.destroyForcibly();
            daemon.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * Starts containerd again with the same config and socket (after {@link #killDaemon()}) and returns
     * once CRI answers; pods are found again (their shims survived).
     */
    public void restartDaemon() throws IOException {
        if (isDaemonAlive()) {
            throw new IllegalStateException("containerd " + pid() + " is still running");
        }
        startDaemon();
    }

    private void closeQuietly() {
        try {
            close();
        } catch (RuntimeException e) {
            LOG.atWarn().setCause(e).addKeyValue("dir", dir).log("containerd fixture teardown left problems");
        }
    }

    /**
     * Undoes everything, in this order: pods removed through CRI, containerd TERM then KILL (by PID),
     * this socket's leftover shims killed (and their sockets removed), runc containers left under our
     * runc root force-deleted, mounts under the dir unmounted (deepest first), our libcni cache
     * entries removed, pod cgroups removed, the bridge deleted, host state restored when the last
     * instance of the JVM closes, the dir deleted. Every step runs even if an earlier one failed;
     * what could not be undone is thrown at the end.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<String> problems = new ArrayList<>();
        if (isDaemonAlive() && Files.exists(socket)) {
            try {
                int n = removeAllPods();
                LOG.atDebug().addKeyValue("pods", n).log("removed pods through CRI");
            } catch (IOException | RuntimeException e) {
                problems.add(e.getMessage());
            }
        }
        stopDaemon(problems);
        killShims(problems);
        deleteRuncContainers(problems);
        unmountAll(problems);
        removeCniCache(problems);
        for (Path root : cgroupRootsQuietly(problems)) {
            problems.addAll(Host.rmdirTree(root.resolve(cgroupName)));
        }
        bridge.ifPresent(b -> deleteLink(b, problems));
        subnet.ifPresent(s -> {
            synchronized (SUBNETS_IN_USE) {
                SUBNETS_IN_USE.remove(s);
            }
        });
        HostState.release(problems);
        try {
            if (Host.mountsUnder(dir).isEmpty()) {
                Host.deleteTree(dir);
            } else {
                problems.add("kept " + dir + ": mounts remain under it");
            }
        } catch (IOException e) {
            problems.add("cannot delete " + dir + ": " + e.getMessage());
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("containerd fixture " + id + " teardown: " + String.join("; ", problems));
        }
        LOG.atInfo().addKeyValue("id", id).log("containerd fixture closed");
    }

    private void stopDaemon(List<String> problems) {
        if (daemon == null || !daemon.isAlive()) {
            return;
        }
        try {
            daemon.destroy(); // SIGTERM
            if (!daemon.waitFor(10, TimeUnit.SECONDS)) {
                LOG.atWarn().addKeyValue("pid", daemon.pid()).log("containerd ignored SIGTERM for 10 s, sending SIGKILL");
                daemon.destroyForcibly();
                if (!daemon.waitFor(10, TimeUnit.SECONDS)) {
                    problems.add("containerd " + daemon.pid() + " survived SIGKILL");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problems.add("interrupted while stopping containerd");
        }
    }

    /**
     * Shims outlive containerd by design: kill those started for THIS socket (matched by their
     * -address). A killed shim leaves its socket in the host-wide /run/containerd/s, named as
     * containerd 1.6 names it: hex sha256 of {@code <containerd address>/<namespace>/<shim id>}.
     */
    private void killShims(List<String> problems) {
        List<Path> sockets = new ArrayList<>();
        for (long pid : Host.pidsWhere(this::isOurShim)) {
            LOG.atWarn().addKeyValue("pid", pid).log("killing leftover containerd-shim-runc-v2");
            shimSocket(Host.cmdline(pid)).ifPresent(sockets::add);
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Host.pidsWhere(this::isOurShim).isEmpty()) {
            if (System.nanoTime() > deadline) {
                problems.add("shims still alive: " + Host.pidsWhere(this::isOurShim));
                return;
            }
            sleep(50);
        }
        for (Path sock : sockets) {
            try {
                Files.deleteIfExists(sock);
            } catch (IOException e) {
                problems.add("cannot remove shim socket " + sock + ": " + e.getMessage());
            }
        }
    }

    /** The socket of the shim with this command line: /run/containerd/s/hex(sha256(address/namespace/id)). */
    Optional<Path> shimSocket(String cmdline) {
        List<String> args = List.of(cmdline.split(" "));
        int ns = args.indexOf("-namespace");
        int id = args.indexOf("-id");
        if (ns < 0 || id < 0 || ns + 1 >= args.size() || id + 1 >= args.size()) {
            return Optional.empty();
        }
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest(
                    (socket + "/" + args.get(ns + 1) + "/" + args.get(id + 1)).getBytes(StandardCharsets.UTF_8));
            return Optional.of(HostState.SHIM_SOCKETS.resolve(java.util.HexFormat.of().formatHex(h)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * libcni caches every ADD result in the host-wide /var/lib/cni/results and drops it on DEL; pods
     * whose DEL never ran (containerd died) leave theirs. Ours name a netns under our state dir.
     */
    private void removeCniCache(List<String> problems) {
        Path results = HostState.CNI_RESULTS;
        if (!Files.isDirectory(results)) {
            return;
        }
        String mine = dir + "/";
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(results)) {
            for (Path f : ds) {
                if (Files.isRegularFile(f) && Files.readString(f).contains(mine)) {
                    LOG.atWarn().addKeyValue("file", f).log("removing leftover libcni cache entry");
                    Files.delete(f);
                }
            }
        } catch (IOException e) {
            problems.add("libcni cache " + results + ": " + e.getMessage());
        }
    }

    boolean isOurShim(String cmdline) {
        if (!cmdline.contains("containerd-shim-runc-v2")) {
            return false;
        }
        List<String> args = List.of(cmdline.split(" "));
        int i = args.indexOf("-address");
        return i >= 0 && i + 1 < args.size() && args.get(i + 1).equals(socket.toString());
    }

    /** Containers whose shim died with them: runc still has their state under our root. */
    private void deleteRuncContainers(List<String> problems) {
        Path runcRoot = dir.resolve("runc");
        if (!Files.isDirectory(runcRoot)) {
            return;
        }
        try (DirectoryStream<Path> ns = Files.newDirectoryStream(runcRoot)) {
            for (Path root : ns) {
                Host.Result list = Host.run("runc", "--root", root.toString(), "list", "-q");
                for (String c : list.stdout().split("\n")) {
                    if (!c.isBlank()) {
                        LOG.atWarn().addKeyValue("container", c.strip()).log("force-deleting leftover runc container");
                        Host.Result r = Host.run("runc", "--root", root.toString(), "delete", "--force", c.strip());
                        if (!r.ok()) {
                            problems.add("runc delete " + c.strip() + ": " + r.stderr().strip());
                        }
                    }
                }
            }
        } catch (IOException e) {
            problems.add("runc cleanup: " + e.getMessage());
        }
    }

    private void unmountAll(List<String> problems) {
        try {
            for (Path m : Host.mountsUnder(dir)) {
                Host.Result r = Host.run("umount", "-l", m.toString());
                if (!r.ok()) {
                    problems.add("umount -l " + m + ": " + r.stderr().strip());
                }
            }
        } catch (IOException e) {
            problems.add("unmount: " + e.getMessage());
        }
    }

    private static List<Path> cgroupRootsQuietly(List<String> problems) {
        try {
            return Host.cgroupRoots();
        } catch (IOException e) {
            problems.add("cgroups: " + e.getMessage());
            return List.of();
        }
    }

    private static void deleteLink(String name, List<String> problems) {
        try {
            if (Host.run("ip", "link", "show", name).ok()) {
                Host.Result r = Host.run("ip", "link", "del", name);
                if (!r.ok()) {
                    problems.add("ip link del " + name + ": " + r.stderr().strip());
                }
            }
        } catch (IOException e) {
            problems.add("bridge " + name + ": " + e.getMessage());
        }
    }

    /**
     * Reserves, for this JVM, a private /24 in 10.200-249.x.0 that no host address or route uses
     * (never 10.88.0.0/16, the usual runtime default). Give it back with {@link #releaseSubnet}.
     */
    public static String reserveSubnet() throws IOException {
        return pickSubnet();
    }

    /** Returns a subnet from {@link #reserveSubnet()}. */
    public static void releaseSubnet(String subnet) {
        synchronized (SUBNETS_IN_USE) {
            SUBNETS_IN_USE.remove(subnet);
        }
    }

    /** A private /24 in 10.200-249.x.0 that no host address or route and no other instance of this JVM uses. */
    private static String pickSubnet() throws IOException {
        String addrs = Host.run("ip", "-4", "-o", "addr", "show").stdout() + Host.run("ip", "-4", "route", "show",
                "table", "all").stdout();
        ThreadLocalRandom r = ThreadLocalRandom.current();
        synchronized (SUBNETS_IN_USE) {
            for (int i = 0; i < 200; i++) {
                String prefix = "10." + (200 + r.nextInt(50)) + "." + r.nextInt(256) + ".";
                if (!addrs.contains(prefix) && SUBNETS_IN_USE.add(prefix + "0/24")) {
                    return prefix + "0/24";
                }
            }
        }
        throw new IOException("no free /24 found in 10.200.0.0-10.249.255.0");
    }

    private static void requireSafe(String value, String what) {
        if (!SAFE_PATH.matcher(value).matches()) {
            throw new IllegalArgumentException(what + " '" + value + "' has characters that cannot go into config.toml");
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public String toString() {
        return "containerd fixture " + id + " at " + dir;
    }
}
