package dev.nodekit.common.grpc;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.grpc.BindableService;
import io.grpc.HandlerRegistry;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;

/**
 * A gRPC server on a unix domain socket, the way kubelet expects a CSI plugin or CRI runtime to
 * listen. Built with {@link #builder(Path)}, started with {@link #start()}.
 *
 * <p>Before binding, the socket path is made safe to use: a missing parent directory is created
 * (mode 0750); a leftover socket from a crashed process (nothing accepts on it) is removed; a socket
 * some process still serves, or a path that is not a socket at all, makes {@code start} fail with
 * {@link UdsServerException} instead of stealing or clobbering it. After binding, the socket gets
 * its mode (default {@value #DEFAULT_SOCKET_MODE}). Between bind and chmod the socket briefly has
 * the mode the umask gives it; keep the parent directory closed (0750) if that matters.
 *
 * <p>Shutdown (a JVM shutdown hook on SIGTERM/SIGINT, or {@link #close()}): stop accepting
 * connections and calls, let in-flight calls finish for up to the grace period, then cancel what
 * is left, and delete the socket file if it is still ours. Handler threads come from a bounded pool
 * of named daemon threads, so {@code main} should end with {@link #awaitTermination()}.
 */
public final class UdsServer implements AutoCloseable {
    /** Socket mode unless configured: owner and group may connect (kubelet runs as root). */
    public static final String DEFAULT_SOCKET_MODE = "0660";
    /** How long in-flight calls may run on after shutdown begins, unless configured. */
    public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(10);
    /** Handler threads unless configured; idle ones exit after a minute. */
    public static final int DEFAULT_EXECUTOR_THREADS = 32;
    /** Linux's sun_path holds 108 bytes including the terminating NUL. */
    static final int MAX_SOCKET_PATH_BYTES = 107;

    private static final Logger log = LoggerFactory.getLogger(UdsServer.class);
    /** Time allowed, after cancelling what is left, for transports and threads to wind down. */
    private static final Duration FORCE_WAIT = Duration.ofSeconds(2);
    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwxr-x---");

    private enum State { NEW, RUNNING, STOPPING, TERMINATED }

    private final Path socket;
    private final Set<PosixFilePermission> socketMode;
    private final String socketModeText;
    private final List<ServerServiceDefinition> services;
    private final List<ServerInterceptor> interceptors;
    private final HandlerRegistry fallback;
    private final boolean directExecutor;
    private final EventLoopGroup sharedLoop;
    private final int maxMessageBytes;
    private final int executorThreads;
    private final Duration shutdownGrace;
    private final boolean shutdownHook;

    private final Object lock = new Object();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private State state = State.NEW;
    private Server server;
    private ThreadPoolExecutor executor;
    private EventLoopGroup boss;
    private EventLoopGroup worker;
    private Thread hookThread;
    private Object socketKey;

    private UdsServer(Builder b) {
        this.socket = b.socket;
        this.socketMode = b.socketMode;
        this.socketModeText = b.socketModeText;
        this.services = List.copyOf(b.services);
        this.interceptors = List.copyOf(b.interceptors);
        this.fallback = b.fallback;
        this.directExecutor = b.directExecutor;
        this.sharedLoop = b.sharedLoop;
        this.maxMessageBytes = b.maxMessageBytes;
        this.executorThreads = b.executorThreads;
        this.shutdownGrace = b.shutdownGrace;
        this.shutdownHook = b.shutdownHook;
    }

    /** A builder for a server on {@code socket} (an absolute path, at most 107 bytes). */
    public static Builder builder(Path socket) {
        return new Builder(socket);
    }

    /** The socket path this server listens (or will listen) on. */
    public Path socketPath() {
        return socket;
    }

    /** The grace period {@link #close()} and the shutdown hook give in-flight calls. */
    public Duration shutdownGrace() {
        return shutdownGrace;
    }

    /**
     * Prepares the socket path, binds, sets the socket mode and installs the shutdown hook.
     *
     * @throws UdsServerException if the path is in use, is not a socket, or cannot be bound
     * @throws IllegalStateException if called twice
     */
    public UdsServer start() throws UdsServerException {
        synchronized (lock) {
            if (state != State.NEW) {
                throw new IllegalStateException("server on " + socket + " was already started");
            }
            if (!Epoll.isAvailable()) {
                throw new UdsServerException(socket, "the epoll transport is unavailable", Epoll.unavailabilityCause());
            }
            prepareSocketPath(socket);
            String threadPrefix = "nodekit-grpc-" + socket.getFileName();
            executor = new ThreadPoolExecutor(executorThreads, executorThreads, 60, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), UdsChannels.daemonThreads(threadPrefix));
            executor.allowCoreThreadTimeOut(true);
            boss = sharedLoop != null ? sharedLoop : UdsChannels.epollGroup(1, threadPrefix + "-accept");
            worker = sharedLoop != null ? sharedLoop : UdsChannels.epollGroup(2, threadPrefix + "-io");
            NettyServerBuilder nb = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                    .channelType(EpollServerDomainSocketChannel.class)
                    .bossEventLoopGroup(boss)
                    .workerEventLoopGroup(worker)
                    // No TCP keepalive on a unix socket: without this netty WARNs on every accepted connection.
                    .withChildOption(ChannelOption.SO_KEEPALIVE, null)
                    .maxInboundMessageSize(maxMessageBytes)
                    .maxInboundMetadataSize(1024 * 1024);
            if (directExecutor) {
                nb.directExecutor();
            } else {
                nb.executor(executor);
            }
            for (ServerServiceDefinition s : services) {
                nb.addService(ServerInterceptors.interceptForward(s, interceptors));
            }
            if (fallback != null) {
                nb.fallbackHandlerRegistry(interceptors.isEmpty() ? fallback : new InterceptedRegistry(fallback, interceptors));
            }
            try {
                server = nb.build().start();
            } catch (IOException e) {
                releaseThreads();
                throw new UdsServerException(socket, "bind failed: " + e.getMessage(), e);
            }
            try {
                Files.setPosixFilePermissions(socket, socketMode);
                socketKey = fileKey(socket);
            } catch (IOException e) {
                server.shutdownNow();
                releaseThreads();
                deleteQuietly(socket);
                throw new UdsServerException(socket, "cannot set socket mode " + socketModeText + ": " + e, e);
            }
            if (shutdownHook) {
                hookThread = new Thread(this::onJvmShutdown, "nodekit-grpc-shutdown-" + socket.getFileName());
                Runtime.getRuntime().addShutdownHook(hookThread);
            }
            state = State.RUNNING;
        }
        log.atInfo().addKeyValue("socket", socket).addKeyValue("mode", socketModeText)
                .addKeyValue("services", services.size()).addKeyValue("max_message_bytes", maxMessageBytes)
                .log("gRPC server listening");
        return this;
    }

    /** Shuts down with the configured grace period; see {@link #shutdown(Duration)}. */
    @Override
    public void close() {
        shutdown(shutdownGrace);
    }

    /**
     * Stops accepting new connections and calls, waits up to {@code grace} for in-flight calls, then
     * cancels the rest and deletes the socket file. Returns when the server has terminated. A second
     * caller waits for the first one's shutdown to finish. Interrupting skips the rest of the grace.
     */
    public void shutdown(Duration grace) {
        Objects.requireNonNull(grace, "grace");
        boolean mine;
        synchronized (lock) {
            mine = state == State.RUNNING || state == State.NEW;
            if (state == State.NEW) {
                state = State.TERMINATED;
                terminated.countDown();
                return;
            }
            if (mine) {
                state = State.STOPPING;
            }
        }
        if (!mine) {
            awaitUninterruptibly();
            return;
        }
        if (Thread.currentThread() != hookThread) {
            removeHook();
        }
        long t0 = System.nanoTime();
        log.atInfo().addKeyValue("socket", socket).addKeyValue("grace_ms", grace.toMillis())
                .log("gRPC server stopping: refusing new calls, waiting for in-flight calls");
        boolean interrupted = false;
        server.shutdown();
        boolean drained;
        try {
            drained = server.awaitTermination(grace.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            interrupted = true;
            drained = false;
        }
        if (!drained) {
            log.atWarn().addKeyValue("socket", socket).addKeyValue("grace_ms", grace.toMillis())
                    .log("in-flight calls did not finish within the grace period; cancelling them");
            server.shutdownNow();
            try {
                server.awaitTermination(FORCE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        releaseThreads();
        deleteSocketIfOurs();
        synchronized (lock) {
            state = State.TERMINATED;
        }
        terminated.countDown();
        log.atInfo().addKeyValue("socket", socket).addKeyValue("drained", drained)
                .addKeyValue("duration_ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0))
                .log("gRPC server stopped");
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Blocks until the server has shut down and removed its socket. */
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    /** Like {@link #awaitTermination()} but gives up after {@code timeout}; true if terminated. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Whether shutdown has completed. */
    public boolean isTerminated() {
        return terminated.getCount() == 0;
    }

    private void onJvmShutdown() {
        log.atInfo().addKeyValue("socket", socket).log("JVM shutting down (SIGTERM, SIGINT or exit): draining gRPC server");
        shutdown(shutdownGrace);
    }

    private void removeHook() {
        if (hookThread == null) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hookThread);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down; the hook will find the server stopping and wait.
        }
    }

    private void awaitUninterruptibly() {
        boolean interrupted = false;
        while (true) {
            try {
                terminated.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void releaseThreads() {
        executor.shutdownNow();
        if (sharedLoop != null) {
            return; // the caller's; it shuts it down
        }
        var b = boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        var w = worker.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        b.awaitUninterruptibly(FORCE_WAIT.toMillis());
        w.awaitUninterruptibly(FORCE_WAIT.toMillis());
    }

    /** Netty deletes the socket when it stops listening; this covers the other cases without deleting a successor's socket. */
    private void deleteSocketIfOurs() {
        try {
            Object key = fileKey(socket);
            if (key != null && key.equals(socketKey)) {
                Files.deleteIfExists(socket);
            } else {
                log.atWarn().addKeyValue("socket", socket)
                        .log("socket path now belongs to another file; leaving it in place");
            }
        } catch (NoSuchFileException e) {
            // already gone: the usual case
        } catch (IOException e) {
            log.atWarn().setCause(e).addKeyValue("socket", socket).log("could not delete socket file");
        }
    }

    private static Object fileKey(Path p) throws IOException {
        return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            log.atWarn().setCause(e).addKeyValue("socket", p).log("could not delete socket file");
        }
    }

    /**
     * Makes {@code socket} ready to bind, as {@link #start()} does: creates a missing parent
     * directory (mode 0750), removes a stale socket nobody accepts on, and refuses a socket some
     * process serves or a path that is not a socket. For servers that bind the socket themselves.
     *
     * @throws UdsServerException if the path is in use, is not a socket, or cannot be prepared
     */
    public static void prepareSocketPath(Path socket) throws UdsServerException {
        Path parent = socket.getParent();
        try {
            if (!Files.exists(parent)) {
                createDirectories(parent);
            } else if (!Files.isDirectory(parent)) {
                throw new UdsServerException(socket, "parent " + parent + " is not a directory");
            }
        } catch (IOException e) {
            if (e instanceof UdsServerException u) {
                throw u;
            }
            throw new UdsServerException(socket, "cannot create directory " + parent + ": " + e, e);
        }
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        String kind = fileKind(socket);
        if (!kind.equals("socket")) {
            throw new UdsServerException(socket, "the path exists and is a " + kind
                    + ", not a unix socket; refusing to replace it");
        }
        if (isServed(socket)) {
            throw new UdsServerException(socket, "another process is accepting connections on this socket;"
                    + " refusing to take it over (stop that process or choose another path)");
        }
        try {
            Files.delete(socket);
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw new UdsServerException(socket, "cannot remove the stale socket: " + e, e);
        }
        log.atInfo().addKeyValue("socket", socket).log("removed stale socket left by a previous process");
    }

    /** Creates the missing directories down to {@code dir}, each with mode 0750 whatever the umask. */
    private static void createDirectories(Path dir) throws IOException {
        List<Path> missing = new ArrayList<>();
        for (Path p = dir; p != null && !Files.exists(p); p = p.getParent()) {
            missing.add(0, p);
        }
        for (Path p : missing) {
            try {
                Files.createDirectory(p);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                continue; // created concurrently; leave its mode alone
            }
            Files.setPosixFilePermissions(p, DIR_MODE);
        }
    }

    /** The permissions an octal socket mode such as {@code "0660"} stands for; rejects anything else. */
    public static Set<PosixFilePermission> socketPermissions(String octal) {
        return Builder.parseMode(octal);
    }

    /** "socket", "regular file", "directory", "symbolic link" or "special file", without following links. */
    static String fileKind(Path p) throws UdsServerException {
        try {
            int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return switch (mode & 0170000) {
                case 0140000 -> "socket";
                case 0100000 -> "regular file";
                case 0040000 -> "directory";
                case 0120000 -> "symbolic link";
                default -> "special file";
            };
        } catch (IOException e) {
            throw new UdsServerException(p, "cannot inspect the existing path: " + e, e);
        }
    }

    /**
     * Whether something accepts connections on the socket. Only a refused connection proves it
     * dead; any other outcome (accepted, pending, permission denied) counts as alive, so a socket is
     * never deleted on a guess. Non-blocking, so a full accept backlog cannot hang startup.
     */
    static boolean isServed(Path p) throws UdsServerException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.configureBlocking(false);
            ch.connect(UnixDomainSocketAddress.of(p));
            return true;
        } catch (ConnectException e) {
            return false;
        } catch (IOException e) {
            throw new UdsServerException(p, "cannot tell whether the existing socket is in use ("
                    + e.getMessage() + "); refusing to remove it", e);
        }
    }

    /** A fallback registry whose methods run the server's interceptors, like the added services' do. */
    private static final class InterceptedRegistry extends HandlerRegistry {
        private final HandlerRegistry delegate;
        private final List<ServerInterceptor> interceptors;

        InterceptedRegistry(HandlerRegistry delegate, List<ServerInterceptor> interceptors) {
            this.delegate = delegate;
            this.interceptors = interceptors;
        }

        @Override
        public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
            ServerMethodDefinition<?, ?> m = delegate.lookupMethod(methodName, authority);
            String service = m == null ? null : m.getMethodDescriptor().getServiceName();
            if (service == null) {
                return m; // no method, or a name without a service part that no service could hold
            }
            ServerServiceDefinition one = ServerServiceDefinition
                    .builder(service).addMethod(m).build();
            return ServerInterceptors.interceptForward(one, interceptors).getMethod(methodName);
        }
    }

    /** Settings of a {@link UdsServer}; every knob has a default except the services. */
    public static final class Builder {
        private final Path socket;
        private final List<ServerServiceDefinition> services = new ArrayList<>();
        private final List<ServerInterceptor> interceptors = new ArrayList<>();
        private HandlerRegistry fallback;
        private boolean directExecutor;
        private EventLoopGroup sharedLoop;
        private Set<PosixFilePermission> socketMode = parseMode(DEFAULT_SOCKET_MODE);
        private String socketModeText = DEFAULT_SOCKET_MODE;
        private int maxMessageBytes = UdsChannels.MAX_MESSAGE_BYTES;
        private int executorThreads = DEFAULT_EXECUTOR_THREADS;
        private Duration shutdownGrace = DEFAULT_SHUTDOWN_GRACE;
        private boolean shutdownHook = true;

        private Builder(Path socket) {
            Objects.requireNonNull(socket, "socket");
            if (!socket.isAbsolute()) {
                throw new IllegalArgumentException("socket path " + socket + " must be absolute");
            }
            Path normalized = socket.normalize();
            int bytes = normalized.toString().getBytes(StandardCharsets.UTF_8).length;
            if (bytes > MAX_SOCKET_PATH_BYTES) {
                throw new IllegalArgumentException("socket path " + normalized + " is " + bytes
                        + " bytes; unix sockets allow at most " + MAX_SOCKET_PATH_BYTES);
            }
            if (normalized.getParent() == null) {
                throw new IllegalArgumentException("socket path " + socket + " names no file");
            }
            this.socket = normalized;
        }

        /** Adds a service (typically a generated {@code *ImplBase} subclass). */
        public Builder addService(BindableService service) {
            return addService(Objects.requireNonNull(service, "service").bindService());
        }

        /** Adds a service definition. */
        public Builder addService(ServerServiceDefinition service) {
            services.add(Objects.requireNonNull(service, "service"));
            return this;
        }

        /**
         * Handlers for methods no added service has (a forwarding proxy answers every method name
         * here, as grpc-java's {@code GrpcProxy} does). Its methods run the same
         * {@link #interceptors}. With a fallback registry, no service needs to be added.
         */
        public Builder fallbackHandlerRegistry(HandlerRegistry registry) {
            this.fallback = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * Runs handlers on the I/O threads instead of the handler pool: saves two thread hand-offs
         * per call, and is only for handlers that never block (a forwarding proxy that hands any
         * blocking work to its own executor). Default false.
         */
        public Builder directExecutor(boolean direct) {
            this.directExecutor = direct;
            return this;
        }

        /**
         * Accepts and serves connections on {@code group} (made with
         * {@link UdsChannels#newEventLoopGroup}) instead of the server's own threads, and leaves it
         * running at shutdown: the caller owns it. A proxy passes the group its client channels use,
         * so with one thread a forwarded call never changes threads (no wake-ups between loops).
         */
        public Builder eventLoopGroup(EventLoopGroup group) {
            this.sharedLoop = Objects.requireNonNull(group, "group");
            return this;
        }

        /**
         * The interceptors every service runs, <b>outermost first</b> (the first one sees a call
         * before the others), e.g. {@link StandardInterceptors#standard}. Replaces earlier ones.
         */
        public Builder interceptors(List<? extends ServerInterceptor> outermostFirst) {
            interceptors.clear();
            for (ServerInterceptor i : outermostFirst) {
                interceptors.add(Objects.requireNonNull(i, "interceptor"));
            }
            return this;
        }

        /** The socket mode in octal, e.g. {@code "0660"} (default) or {@code "0600"}. */
        public Builder socketMode(String octal) {
            this.socketMode = parseMode(octal);
            this.socketModeText = octal.length() == 3 ? "0" + octal : octal;
            return this;
        }

        /** Largest request accepted, in bytes; default {@link UdsChannels#MAX_MESSAGE_BYTES}. */
        public Builder maxMessageBytes(int bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("maxMessageBytes must be positive, got " + bytes);
            }
            this.maxMessageBytes = bytes;
            return this;
        }

        /** Most handler threads running at once; further calls queue. Default {@value #DEFAULT_EXECUTOR_THREADS}. */
        public Builder executorThreads(int threads) {
            if (threads < 1 || threads > 1024) {
                throw new IllegalArgumentException("executorThreads must be 1-1024, got " + threads);
            }
            this.executorThreads = threads;
            return this;
        }

        /** How long in-flight calls may continue once shutdown begins; default 10 s. */
        public Builder shutdownGrace(Duration grace) {
            Objects.requireNonNull(grace, "grace");
            if (grace.isNegative()) {
                throw new IllegalArgumentException("shutdownGrace must not be negative, got " + grace);
            }
            this.shutdownGrace = grace;
            return this;
        }

        /** Whether SIGTERM/SIGINT (any JVM exit) shuts the server down gracefully; default true. */
        public Builder shutdownHook(boolean install) {
            this.shutdownHook = install;
            return this;
        }

        /** The configured server, not yet started. */
        public UdsServer build() {
            if (services.isEmpty() && fallback == null) {
                throw new IllegalStateException("a server on " + socket + " needs at least one service");
            }
            return new UdsServer(this);
        }

        static Set<PosixFilePermission> parseMode(String octal) {
            if (octal == null || !octal.matches("0?[0-7]{3}")) {
                throw new IllegalArgumentException("socket mode '" + octal
                        + "' is not an octal permission like 0660 or 0600");
            }
            int bits = Integer.parseInt(octal, 8);
            Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
            PosixFilePermission[] order = {
                PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
                PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
                PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ,
            };
            for (int i = 0; i < order.length; i++) {
                if ((bits & (1 << i)) != 0) {
                    perms.add(order[i]);
                }
            }
            return Set.copyOf(perms);
        }
    }
}
