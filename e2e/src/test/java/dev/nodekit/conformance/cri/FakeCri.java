package dev.nodekit.conformance.cri;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.IntUnaryOperator;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

import dev.nodekit.spec.cri.v1.AttachRequest;
import dev.nodekit.spec.cri.v1.AttachResponse;
import dev.nodekit.spec.cri.v1.Container;
import dev.nodekit.spec.cri.v1.ContainerConfig;
import dev.nodekit.spec.cri.v1.ContainerFilter;
import dev.nodekit.spec.cri.v1.ContainerState;
import dev.nodekit.spec.cri.v1.ContainerStatus;
import dev.nodekit.spec.cri.v1.ContainerStatusRequest;
import dev.nodekit.spec.cri.v1.ContainerStatusResponse;
import dev.nodekit.spec.cri.v1.CreateContainerRequest;
import dev.nodekit.spec.cri.v1.CreateContainerResponse;
import dev.nodekit.spec.cri.v1.ExecRequest;
import dev.nodekit.spec.cri.v1.ExecResponse;
import dev.nodekit.spec.cri.v1.ExecSyncRequest;
import dev.nodekit.spec.cri.v1.ExecSyncResponse;
import dev.nodekit.spec.cri.v1.FilesystemIdentifier;
import dev.nodekit.spec.cri.v1.FilesystemUsage;
import dev.nodekit.spec.cri.v1.Image;
import dev.nodekit.spec.cri.v1.ImageFsInfoRequest;
import dev.nodekit.spec.cri.v1.ImageFsInfoResponse;
import dev.nodekit.spec.cri.v1.ImageServiceGrpc;
import dev.nodekit.spec.cri.v1.ImageStatusRequest;
import dev.nodekit.spec.cri.v1.ImageStatusResponse;
import dev.nodekit.spec.cri.v1.ListContainersRequest;
import dev.nodekit.spec.cri.v1.ListContainersResponse;
import dev.nodekit.spec.cri.v1.ListImagesRequest;
import dev.nodekit.spec.cri.v1.ListImagesResponse;
import dev.nodekit.spec.cri.v1.ListPodSandboxRequest;
import dev.nodekit.spec.cri.v1.ListPodSandboxResponse;
import dev.nodekit.spec.cri.v1.PodSandbox;
import dev.nodekit.spec.cri.v1.PodSandboxConfig;
import dev.nodekit.spec.cri.v1.PodSandboxFilter;
import dev.nodekit.spec.cri.v1.PodSandboxNetworkStatus;
import dev.nodekit.spec.cri.v1.PodSandboxState;
import dev.nodekit.spec.cri.v1.PodSandboxStatus;
import dev.nodekit.spec.cri.v1.PodSandboxStatusRequest;
import dev.nodekit.spec.cri.v1.PodSandboxStatusResponse;
import dev.nodekit.spec.cri.v1.PortForwardRequest;
import dev.nodekit.spec.cri.v1.PortForwardResponse;
import dev.nodekit.spec.cri.v1.RemoveContainerRequest;
import dev.nodekit.spec.cri.v1.RemoveContainerResponse;
import dev.nodekit.spec.cri.v1.RemovePodSandboxRequest;
import dev.nodekit.spec.cri.v1.RemovePodSandboxResponse;
import dev.nodekit.spec.cri.v1.RunPodSandboxRequest;
import dev.nodekit.spec.cri.v1.RunPodSandboxResponse;
import dev.nodekit.spec.cri.v1.RuntimeCondition;
import dev.nodekit.spec.cri.v1.RuntimeServiceGrpc;
import dev.nodekit.spec.cri.v1.RuntimeStatus;
import dev.nodekit.spec.cri.v1.StartContainerRequest;
import dev.nodekit.spec.cri.v1.StartContainerResponse;
import dev.nodekit.spec.cri.v1.StatusRequest;
import dev.nodekit.spec.cri.v1.StatusResponse;
import dev.nodekit.spec.cri.v1.StopContainerRequest;
import dev.nodekit.spec.cri.v1.StopContainerResponse;
import dev.nodekit.spec.cri.v1.StopPodSandboxRequest;
import dev.nodekit.spec.cri.v1.StopPodSandboxResponse;
import dev.nodekit.spec.cri.v1.UInt64Value;
import dev.nodekit.spec.cri.v1.VersionRequest;
import dev.nodekit.spec.cri.v1.VersionResponse;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;

/**
 * A small CRI runtime for the suite's unit tests, healthy by default; each public field switches one
 * defect on. Containers and exec'd commands are real host processes ({@code sh}, {@code sleep}), so
 * exit codes, TERM traps, timeouts and output are real; there are no namespaces, so the few commands
 * that would see the host instead of a pod are answered by the fake: {@code hostname}, the pod's
 * busybox {@code httpd} (never started: a virtual server that port-forward and {@code wget} reach)
 * and {@code wget} against it. Streaming URLs are served by {@link FakeStreams} over WebSocket.
 */
final class FakeCri implements AutoCloseable {
    static final DateTimeFormatter RFC3339_NANO = DateTimeFormatter.ISO_OFFSET_DATE_TIME;

    // ---- defects: each true (or non-identity) breaks one rule ----------------------------------------
    Supplier<VersionResponse> version = () -> VersionResponse.newBuilder().setVersion("0.1.0")
            .setRuntimeName("fake-cri").setRuntimeVersion("1.0.0").setRuntimeApiVersion("v1").build();
    List<RuntimeCondition> conditions = List.of(condition("RuntimeReady", true), condition("NetworkReady", true));
    boolean verboseStatusWithoutInfo;
    boolean quietStatusWithInfo;
    UnaryOperator<PodSandboxStatus> podStatusHook = s -> s;
    UnaryOperator<PodSandboxFilter> podFilterHook = f -> f;
    boolean stopPodFailsWhenRepeated;
    boolean removePodFailsWhenRepeated;
    boolean removedPodStillFound;
    boolean stopPodLeavesContainersRunning;
    Optional<String> hostnameOverride = Optional.empty();
    UnaryOperator<ContainerStatus> containerStatusHook = s -> s;
    UnaryOperator<ContainerFilter> containerFilterHook = f -> f;
    boolean stopContainerNeverKills;
    boolean removeContainerFailsWhenRepeated;
    boolean removeRunningContainerRefused;
    /** Rewrites each CRI log line before it is written; null drops it. */
    UnaryOperator<String> logLineHook = l -> l;
    IntUnaryOperator execSyncExitCode = c -> c;
    boolean execSyncMergesStderr;
    Status.Code execSyncTimeoutCode = Status.Code.DEADLINE_EXCEEDED;
    boolean execSyncLeavesTimedOutProcess;
    IntUnaryOperator streamExitCode = c -> c;
    boolean streamOmitsStatus;
    boolean attachSendsStdoutOnStderr;
    boolean portForwardWithoutPortPrefix;
    int portForwardPortOffset;
    UnaryOperator<Image> imageHook = i -> i;
    boolean absentImageIsNotFound;
    boolean listImagesOmitsTarget;
    Supplier<ImageFsInfoResponse> fsInfo = () -> ImageFsInfoResponse.newBuilder()
            .addImageFilesystems(FilesystemUsage.newBuilder().setTimestamp(System.currentTimeMillis() * 1_000_000L)
                    .setFsId(FilesystemIdentifier.newBuilder().setMountpoint("/var/lib/fake-cri/images"))
                    .setUsedBytes(UInt64Value.newBuilder().setValue(2_130_700))).build();

    // ---- state ----------------------------------------------------------------------------------------
    final Map<String, Image> images = new ConcurrentHashMap<>();
    private final Map<String, FakePod> pods = new ConcurrentHashMap<>();
    private final Map<String, FakeContainer> containers = new ConcurrentHashMap<>();
    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private final AtomicInteger ips = new AtomicInteger(1);
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fake-cri");
        t.setDaemon(true);
        return t;
    });
    private final Path workDir;
    private final FakeStreams streams;
    private final List<Server> servers = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();

    FakeCri(Path workDir) throws Exception {
        this.workDir = workDir;
        Image busybox = Image.newBuilder().setId("sha256:" + "4".repeat(64)).addRepoTags(CriTarget.DEFAULT_IMAGE)
                .setSize(2_130_700).build();
        images.put(CriTarget.DEFAULT_IMAGE, busybox);
        this.streams = FakeStreams.start(this);
    }

    static RuntimeCondition condition(String type, boolean ok) {
        return RuntimeCondition.newBuilder().setType(type).setStatus(ok).setReason(ok ? "" : "FakeNotReady")
                .setMessage(ok ? "" : "the fake says so").build();
    }

    /** A target for the fake over an in-process channel; pod logs go under {@code logRoot}. */
    CriTarget target(Path logRoot) throws IOException {
        String name = InProcessServerBuilder.generateName();
        servers.add(InProcessServerBuilder.forName(name).executor(executor).addService(runtimeService())
                .addService(imageService()).build().start());
        ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
        channels.add(ch);
        return CriTarget.of(CriTarget.Config.of("unix:///fake-cri.sock").withLogRoot(logRoot)
                .withCallTimeout(Duration.ofSeconds(20)), ch, ch);
    }

    BindableService[] services() {
        return new BindableService[] {runtimeService(), imageService()};
    }

    // ---- the model ------------------------------------------------------------------------------------

    /** A pod: its config, state and fake IP. */
    static final class FakePod {
        final String id;
        final PodSandboxConfig config;
        final long createdAt = System.currentTimeMillis() * 1_000_000L;
        final String ip;
        final String handler;
        volatile PodSandboxState state = PodSandboxState.SANDBOX_READY;

        FakePod(String id, PodSandboxConfig config, String ip, String handler) {
            this.id = id;
            this.config = config;
            this.ip = ip;
            this.handler = handler;
        }

        String hostname() {
            return config.getHostname();
        }
    }

    /** A container: a host process (or the virtual httpd), its output subscribers and its log file. */
    final class FakeContainer {
        final String id;
        final FakePod pod;
        final ContainerConfig config;
        final long createdAt = System.currentTimeMillis() * 1_000_000L;
        final Optional<Path> logFile;
        final List<BiConsumer<Integer, byte[]>> attached = new CopyOnWriteArrayList<>();
        volatile ContainerState state = ContainerState.CONTAINER_CREATED;
        volatile long startedAt;
        volatile long finishedAt;
        volatile int exitCode;
        volatile Process process;
        volatile boolean httpServer;

        FakeContainer(String id, FakePod pod, ContainerConfig config) {
            this.id = id;
            this.pod = pod;
            this.config = config;
            String dir = pod.config.getLogDirectory();
            this.logFile = dir.isEmpty() || config.getLogPath().isEmpty() ? Optional.empty()
                    : Optional.of(Path.of(dir).resolve(config.getLogPath()));
        }

        List<String> argv() {
            List<String> a = new ArrayList<>(config.getCommandList());
            a.addAll(config.getArgsList());
            return a;
        }

        synchronized void start() throws IOException {
            startedAt = System.currentTimeMillis() * 1_000_000L;
            state = ContainerState.CONTAINER_RUNNING;
            if (argv().equals(Commands.httpServer())) {
                httpServer = true; // the virtual busybox httpd: serves /etc/hostname of the pod
                return;
            }
            Process p = spawn(argv());
            process = p;
            pump(p.getInputStream(), 1);
            pump(p.getErrorStream(), 2);
            p.onExit().thenAccept(x -> exited(x.exitValue()));
        }

        private void pump(InputStream in, int stream) {
            executor.execute(() -> {
                try (in) {
                    StringBuilder line = new StringBuilder();
                    for (int b; (b = in.read()) >= 0;) {
                        if (b == '\n') {
                            output(stream, line.toString());
                            line.setLength(0);
                        } else {
                            line.append((char) b);
                        }
                    }
                } catch (IOException e) {
                    // process gone
                }
            });
        }

        private void output(int stream, String line) {
            byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
            attached.forEach(a -> a.accept(stream, bytes));
            logFile.ifPresent(f -> {
                String l = logLineHook.apply(OffsetDateTime.now(ZoneOffset.UTC).format(RFC3339_NANO) + " "
                        + (stream == 1 ? "stdout" : "stderr") + " F " + line);
                if (l != null) {
                    synchronized (this) {
                        try {
                            Files.writeString(f, l + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                        } catch (IOException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                }
            });
        }

        private void exited(int code) {
            if (state == ContainerState.CONTAINER_RUNNING) {
                exitCode = code;
                finishedAt = System.currentTimeMillis() * 1_000_000L;
                state = ContainerState.CONTAINER_EXITED;
            }
        }

        /** TERM, wait {@code timeoutSeconds}, then KILL (unless that defect is on); waits for the exit. */
        void stop(long timeoutSeconds) throws InterruptedException {
            if (state != ContainerState.CONTAINER_RUNNING) {
                return;
            }
            if (httpServer) {
                exited(0);
                return;
            }
            Process p = process;
            List<ProcessHandle> kids = p.descendants().toList();
            p.destroy();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                if (stopContainerNeverKills) {
                    return;
                }
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            kids.forEach(ProcessHandle::destroyForcibly); // a container's PID namespace would take them along
            p.onExit().join();
            while (state == ContainerState.CONTAINER_RUNNING) {
                Thread.sleep(5);
            }
        }

        ContainerStatus status() {
            ContainerStatus.Builder b = ContainerStatus.newBuilder().setId(id).setMetadata(config.getMetadata())
                    .setState(state).setCreatedAt(createdAt).setStartedAt(startedAt).setFinishedAt(finishedAt)
                    .setExitCode(exitCode).setImage(config.getImage()).setImageRef(image(config.getImage().getImage())
                            .map(Image::getId).orElse("")).putAllLabels(config.getLabelsMap())
                    .putAllAnnotations(config.getAnnotationsMap());
            logFile.ifPresent(f -> b.setLogPath(f.toString()));
            if (state == ContainerState.CONTAINER_EXITED) {
                b.setReason(exitCode == 0 ? "Completed" : "Error");
            }
            return b.build();
        }
    }

    Process spawn(List<String> argv) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(argv).directory(workDir.toFile());
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    static void killTree(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    Optional<Image> image(String ref) {
        Image i = images.get(ref);
        if (i == null) {
            i = images.values().stream().filter(x -> x.getId().equals(ref)).findFirst().orElse(null);
        }
        return Optional.ofNullable(i).map(imageHook);
    }

    // ---- exec -----------------------------------------------------------------------------------------

    /** The result of a command that ran to its end. */
    record Ran(byte[] stdout, byte[] stderr, int exitCode) {
    }

    /** Commands the fake answers itself because a host process would see the host, not the pod. */
    Optional<Ran> virtual(FakeContainer c, List<String> argv) {
        if (argv.equals(List.of("hostname"))) {
            return Optional.of(new Ran(utf8(hostnameOverride.orElse(c.pod.hostname()) + "\n"), new byte[0], 0));
        }
        if (argv.equals(Commands.httpGet("/hostname"))) {
            boolean up = containers.values().stream().anyMatch(x -> x.pod == c.pod && x.httpServer
                    && x.state == ContainerState.CONTAINER_RUNNING);
            return Optional.of(up ? new Ran(utf8(c.pod.hostname() + "\n"), new byte[0], 0)
                    : new Ran(new byte[0], utf8("wget: can't connect to remote host (127.0.0.1): Connection refused\n"), 1));
        }
        return Optional.empty();
    }

    /** What the pod's HTTP server answers on {@code port}, or empty when nothing listens there. */
    Optional<String> httpAnswer(FakePod pod, int port) {
        boolean up = port == Commands.HTTP_PORT && containers.values().stream().anyMatch(x -> x.pod == pod
                && x.httpServer && x.state == ContainerState.CONTAINER_RUNNING);
        if (!up) {
            return Optional.empty();
        }
        String body = pod.hostname() + "\n";
        return Optional.of("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] readAll(InputStream in) {
        try (in) {
            return in.readAllBytes();
        } catch (IOException e) {
            return new byte[0];
        }
    }

    FakeContainer container(String id) {
        FakeContainer c = containers.get(id);
        if (c == null) {
            throw Status.NOT_FOUND.withDescription("container " + id + " not found").asRuntimeException();
        }
        return c;
    }

    FakePod pod(String id) {
        FakePod p = pods.get(id);
        if (p == null) {
            throw Status.NOT_FOUND.withDescription("pod sandbox " + id + " not found").asRuntimeException();
        }
        return p;
    }

    // ---- RuntimeService -------------------------------------------------------------------------------

    private interface Call<R> {
        R run() throws Exception;
    }

    private static <R> void answer(StreamObserver<R> out, Call<R> call) {
        R r;
        try {
            r = call.run();
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        } catch (Exception e) {
            out.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
            return;
        }
        out.onNext(r);
        out.onCompleted();
    }

    private static String newId() {
        return HexFormat.of().formatHex(UUID.randomUUID().toString().getBytes(StandardCharsets.US_ASCII)).substring(0, 64);
    }

    private BindableService runtimeService() {
        return new RuntimeServiceGrpc.RuntimeServiceImplBase() {
            @Override
            public void version(VersionRequest request, StreamObserver<VersionResponse> out) {
                answer(out, version::get);
            }

            @Override
            public void status(StatusRequest request, StreamObserver<StatusResponse> out) {
                answer(out, () -> {
                    StatusResponse.Builder b = StatusResponse.newBuilder()
                            .setStatus(RuntimeStatus.newBuilder().addAllConditions(conditions));
                    if ((request.getVerbose() && !verboseStatusWithoutInfo) || (!request.getVerbose() && quietStatusWithInfo)) {
                        b.putInfo("config", "{\"fake\":true}");
                    }
                    return b.build();
                });
            }

            @Override
            public void runPodSandbox(RunPodSandboxRequest request, StreamObserver<RunPodSandboxResponse> out) {
                answer(out, () -> {
                    String h = request.getRuntimeHandler();
                    if (!h.isEmpty() && !h.equals("runc")) {
                        throw Status.INVALID_ARGUMENT.withDescription("no runtime for " + h).asRuntimeException();
                    }
                    String id = newId();
                    pods.put(id, new FakePod(id, request.getConfig(), "192.0.2." + ips.incrementAndGet(), h));
                    return RunPodSandboxResponse.newBuilder().setPodSandboxId(id).build();
                });
            }

            @Override
            public void stopPodSandbox(StopPodSandboxRequest request, StreamObserver<StopPodSandboxResponse> out) {
                answer(out, () -> {
                    FakePod p = pod(request.getPodSandboxId());
                    if (p.state == PodSandboxState.SANDBOX_NOTREADY && stopPodFailsWhenRepeated) {
                        throw Status.FAILED_PRECONDITION.withDescription("already stopped").asRuntimeException();
                    }
                    if (!stopPodLeavesContainersRunning) {
                        for (FakeContainer c : containers.values()) {
                            if (c.pod == p) {
                                c.stop(0);
                            }
                        }
                    }
                    p.state = PodSandboxState.SANDBOX_NOTREADY;
                    return StopPodSandboxResponse.getDefaultInstance();
                });
            }

            @Override
            public void removePodSandbox(RemovePodSandboxRequest request, StreamObserver<RemovePodSandboxResponse> out) {
                answer(out, () -> {
                    FakePod p = pods.get(request.getPodSandboxId());
                    if (p == null) {
                        if (removePodFailsWhenRepeated) {
                            throw Status.NOT_FOUND.withDescription("no such pod").asRuntimeException();
                        }
                        return RemovePodSandboxResponse.getDefaultInstance();
                    }
                    for (FakeContainer c : List.copyOf(containers.values())) {
                        if (c.pod == p) {
                            c.stop(0);
                            containers.remove(c.id);
                        }
                    }
                    if (!removedPodStillFound) {
                        pods.remove(p.id);
                    }
                    p.state = PodSandboxState.SANDBOX_NOTREADY;
                    return RemovePodSandboxResponse.getDefaultInstance();
                });
            }

            @Override
            public void podSandboxStatus(PodSandboxStatusRequest request, StreamObserver<PodSandboxStatusResponse> out) {
                answer(out, () -> {
                    FakePod p = pod(request.getPodSandboxId());
                    PodSandboxStatus s = PodSandboxStatus.newBuilder().setId(p.id).setMetadata(p.config.getMetadata())
                            .setState(p.state).setCreatedAt(p.createdAt)
                            .setNetwork(PodSandboxNetworkStatus.newBuilder().setIp(p.ip))
                            .putAllLabels(p.config.getLabelsMap()).putAllAnnotations(p.config.getAnnotationsMap())
                            .setRuntimeHandler(p.handler).build();
                    return PodSandboxStatusResponse.newBuilder().setStatus(podStatusHook.apply(s)).build();
                });
            }

            @Override
            public void listPodSandbox(ListPodSandboxRequest request, StreamObserver<ListPodSandboxResponse> out) {
                answer(out, () -> {
                    PodSandboxFilter f = podFilterHook.apply(request.getFilter());
                    ListPodSandboxResponse.Builder b = ListPodSandboxResponse.newBuilder();
                    for (FakePod p : pods.values()) {
                        if ((!f.getId().isEmpty() && !f.getId().equals(p.id))
                                || (f.hasState() && f.getState().getState() != p.state)
                                || !p.config.getLabelsMap().entrySet().containsAll(f.getLabelSelectorMap().entrySet())) {
                            continue;
                        }
                        b.addItems(PodSandbox.newBuilder().setId(p.id).setMetadata(p.config.getMetadata())
                                .setState(p.state).setCreatedAt(p.createdAt).putAllLabels(p.config.getLabelsMap())
                                .putAllAnnotations(p.config.getAnnotationsMap()).setRuntimeHandler(p.handler));
                    }
                    return b.build();
                });
            }

            @Override
            public void createContainer(CreateContainerRequest request, StreamObserver<CreateContainerResponse> out) {
                answer(out, () -> {
                    FakePod p = pod(request.getPodSandboxId());
                    if (p.state != PodSandboxState.SANDBOX_READY) {
                        throw Status.FAILED_PRECONDITION.withDescription("pod is not ready").asRuntimeException();
                    }
                    if (image(request.getConfig().getImage().getImage()).isEmpty()) {
                        throw Status.NOT_FOUND.withDescription("image " + request.getConfig().getImage().getImage()
                                + " not found").asRuntimeException();
                    }
                    String id = newId();
                    containers.put(id, new FakeContainer(id, p, request.getConfig()));
                    return CreateContainerResponse.newBuilder().setContainerId(id).build();
                });
            }

            @Override
            public void startContainer(StartContainerRequest request, StreamObserver<StartContainerResponse> out) {
                answer(out, () -> {
                    FakeContainer c = container(request.getContainerId());
                    if (c.state != ContainerState.CONTAINER_CREATED) {
                        throw Status.FAILED_PRECONDITION.withDescription("container is " + c.state).asRuntimeException();
                    }
                    c.start();
                    return StartContainerResponse.getDefaultInstance();
                });
            }

            @Override
            public void stopContainer(StopContainerRequest request, StreamObserver<StopContainerResponse> out) {
                answer(out, () -> {
                    container(request.getContainerId()).stop(request.getTimeout());
                    return StopContainerResponse.getDefaultInstance();
                });
            }

            @Override
            public void removeContainer(RemoveContainerRequest request, StreamObserver<RemoveContainerResponse> out) {
                answer(out, () -> {
                    FakeContainer c = containers.get(request.getContainerId());
                    if (c == null) {
                        if (removeContainerFailsWhenRepeated) {
                            throw Status.NOT_FOUND.withDescription("no such container").asRuntimeException();
                        }
                        return RemoveContainerResponse.getDefaultInstance();
                    }
                    if (c.state == ContainerState.CONTAINER_RUNNING) {
                        if (removeRunningContainerRefused) {
                            throw Status.FAILED_PRECONDITION.withDescription("container is running").asRuntimeException();
                        }
                        c.stop(0);
                    }
                    containers.remove(c.id);
                    return RemoveContainerResponse.getDefaultInstance();
                });
            }

            @Override
            public void listContainers(ListContainersRequest request, StreamObserver<ListContainersResponse> out) {
                answer(out, () -> {
                    ContainerFilter f = containerFilterHook.apply(request.getFilter());
                    ListContainersResponse.Builder b = ListContainersResponse.newBuilder();
                    for (FakeContainer c : containers.values()) {
                        if ((!f.getId().isEmpty() && !f.getId().equals(c.id))
                                || (!f.getPodSandboxId().isEmpty() && !f.getPodSandboxId().equals(c.pod.id))
                                || (f.hasState() && f.getState().getState() != c.state)
                                || !c.config.getLabelsMap().entrySet().containsAll(f.getLabelSelectorMap().entrySet())) {
                            continue;
                        }
                        b.addContainers(Container.newBuilder().setId(c.id).setPodSandboxId(c.pod.id)
                                .setMetadata(c.config.getMetadata()).setImage(c.config.getImage()).setState(c.state)
                                .setCreatedAt(c.createdAt).putAllLabels(c.config.getLabelsMap())
                                .putAllAnnotations(c.config.getAnnotationsMap()));
                    }
                    return b.build();
                });
            }

            @Override
            public void containerStatus(ContainerStatusRequest request, StreamObserver<ContainerStatusResponse> out) {
                answer(out, () -> ContainerStatusResponse.newBuilder()
                        .setStatus(containerStatusHook.apply(container(request.getContainerId()).status())).build());
            }

            @Override
            public void execSync(ExecSyncRequest request, StreamObserver<ExecSyncResponse> out) {
                answer(out, () -> {
                    FakeContainer c = container(request.getContainerId());
                    if (c.state != ContainerState.CONTAINER_RUNNING) {
                        throw Status.FAILED_PRECONDITION.withDescription("container is not running").asRuntimeException();
                    }
                    Ran r = virtual(c, request.getCmdList()).orElse(null);
                    if (r == null) {
                        Process p = spawn(request.getCmdList());
                        var stdout = executor.submit(() -> readAll(p.getInputStream()));
                        var stderr = executor.submit(() -> readAll(p.getErrorStream()));
                        long timeout = request.getTimeout() > 0 ? request.getTimeout() : Long.MAX_VALUE / 2;
                        if (!p.waitFor(timeout, TimeUnit.SECONDS)) {
                            if (!execSyncLeavesTimedOutProcess) {
                                killTree(p);
                            }
                            throw Status.fromCode(execSyncTimeoutCode)
                                    .withDescription("timeout " + request.getTimeout() + "s exceeded").asRuntimeException();
                        }
                        r = new Ran(stdout.get(), stderr.get(), p.exitValue());
                    }
                    ByteArrayOutputStream o = new ByteArrayOutputStream();
                    o.writeBytes(r.stdout());
                    if (execSyncMergesStderr) {
                        o.writeBytes(r.stderr());
                    }
                    return ExecSyncResponse.newBuilder().setStdout(com.google.protobuf.ByteString.copyFrom(o.toByteArray()))
                            .setStderr(execSyncMergesStderr ? com.google.protobuf.ByteString.EMPTY
                                    : com.google.protobuf.ByteString.copyFrom(r.stderr()))
                            .setExitCode(execSyncExitCode.applyAsInt(r.exitCode())).build();
                });
            }

            @Override
            public void exec(ExecRequest request, StreamObserver<ExecResponse> out) {
                answer(out, () -> {
                    container(request.getContainerId());
                    return ExecResponse.newBuilder().setUrl(streams.url("exec", request)).build();
                });
            }

            @Override
            public void attach(AttachRequest request, StreamObserver<AttachResponse> out) {
                answer(out, () -> {
                    container(request.getContainerId());
                    return AttachResponse.newBuilder().setUrl(streams.url("attach", request)).build();
                });
            }

            @Override
            public void portForward(PortForwardRequest request, StreamObserver<PortForwardResponse> out) {
                answer(out, () -> {
                    pod(request.getPodSandboxId());
                    return PortForwardResponse.newBuilder().setUrl(streams.url("portforward", request)).build();
                });
            }
        };
    }

    // ---- ImageService ---------------------------------------------------------------------------------

    private BindableService imageService() {
        return new ImageServiceGrpc.ImageServiceImplBase() {
            @Override
            public void imageStatus(ImageStatusRequest request, StreamObserver<ImageStatusResponse> out) {
                answer(out, () -> {
                    Optional<Image> i = image(request.getImage().getImage());
                    if (i.isEmpty() && absentImageIsNotFound) {
                        throw Status.NOT_FOUND.withDescription("image not found").asRuntimeException();
                    }
                    ImageStatusResponse.Builder b = ImageStatusResponse.newBuilder();
                    i.ifPresent(b::setImage);
                    return b.build();
                });
            }

            @Override
            public void listImages(ListImagesRequest request, StreamObserver<ListImagesResponse> out) {
                answer(out, () -> {
                    ListImagesResponse.Builder b = ListImagesResponse.newBuilder();
                    String want = request.hasFilter() ? request.getFilter().getImage().getImage() : "";
                    for (Map.Entry<String, Image> e : images.entrySet()) {
                        if (listImagesOmitsTarget && e.getKey().equals(CriTarget.DEFAULT_IMAGE)) {
                            continue;
                        }
                        if (want.isEmpty() || e.getKey().equals(want)) {
                            b.addImages(imageHook.apply(e.getValue()));
                        }
                    }
                    return b.build();
                });
            }

            @Override
            public void imageFsInfo(ImageFsInfoRequest request, StreamObserver<ImageFsInfoResponse> out) {
                answer(out, fsInfo::get);
            }
        };
    }

    @Override
    public void close() {
        channels.forEach(ManagedChannel::shutdownNow);
        servers.forEach(Server::shutdownNow);
        for (Process p : processes) {
            killTree(p);
        }
        streams.close();
        executor.shutdownNow();
    }
}
