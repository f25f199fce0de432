package dev.nodekit.cni.daemon;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.cni.api.CniDispatcher;
import dev.nodekit.cni.api.CniPlugin;
import dev.nodekit.cni.api.CniRequest;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.Result;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The node daemon behind the thin CNI client: serves {@link CniWire} requests on a unix socket by
 * running the same {@link CniDispatcher} and plugins as the exec'd launchers, in-process. A call
 * then costs the plugin's own work (its {@code ip}/{@code iptables} children and the IPAM lock)
 * instead of a JVM start.
 *
 * <h2>Serving one connection</h2>
 * <ol>
 * <li>The peer must be the daemon's own user ({@code SO_PEERCRED}), on top of the socket's 0600 mode
 *     and its 0700 directory.</li>
 * <li>Read the request (bounded by {@link DaemonConfig#ioTimeout()}); a malformed one or one of a
 *     newer protocol version is refused with a message, and the client falls back.</li>
 * <li>Answer "ready", wait for the commit byte (same bound). A client that gave up in the meantime
 *     closes instead, and the call is dropped without having started.</li>
 * <li>Run the dispatcher with the request's environment and stdin; each plugin call first passes
 *     the {@link CallGate}: one call per container and interface at a time, at most
 *     {@link DaemonConfig#maxConcurrent()} at once, both waits bounded (CNI code 11 beyond).</li>
 * <li>Write the exit code, stdout and stderr; log one line.</li>
 * </ol>
 * Connections beyond {@link DaemonConfig#maxConnections()} are refused "busy" straight away (the
 * client answers code 11).
 *
 * <h2>Stopping</h2>
 * {@link #close()} stops accepting, removes the socket (the clients fall back from then on), lets the
 * calls in flight finish within {@link DaemonConfig#shutdownGrace()}, then interrupts what is left.
 * A killed daemon leaves a stale socket: clients get "connection refused" and fall back, and the
 * next daemon replaces it (after checking nobody answers on it).
 */
public final class CniDaemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CniDaemon.class);
    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> SOCKET_MODE = PosixFilePermissions.fromString("rw-------");

    private final DaemonConfig config;
    private final ServerSocketChannel server;
    private final Object socketKey;
    private final UserPrincipal owner;
    private final Map<String, CniDispatcher> dispatchers;
    private final CniDispatcher unknown;
    private final CallGate gate;
    private final ThreadPoolExecutor workers;
    private final ScheduledExecutorService watchdog;
    private final Thread acceptor;
    private final AtomicInteger connections = new AtomicInteger();
    private volatile boolean closing;

    private CniDaemon(DaemonConfig config, ServerSocketChannel server, Object socketKey, UserPrincipal owner,
            Map<String, CniPlugin> plugins, Path ownNetns) {
        this.config = config;
        this.server = server;
        this.socketKey = socketKey;
        this.owner = owner;
        this.gate = new CallGate(config.maxConcurrent(), config.admissionWait());
        Map<String, CniDispatcher> d = new HashMap<>();
        for (Map.Entry<String, CniPlugin> e : plugins.entrySet()) {
            d.put(e.getKey(), new CniDispatcher(new GatedPlugin(e.getValue(), gate), ownNetns));
        }
        this.dispatchers = Map.copyOf(d);
        this.unknown = new CniDispatcher(new Unknown(plugins.keySet().toString()), ownNetns);
        this.workers = new ThreadPoolExecutor(0, config.maxConnections(), 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
                r -> {
                    Thread t = new Thread(r, "cni-daemon-call");
                    t.setDaemon(true);
                    return t;
                });
        ScheduledThreadPoolExecutor w = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "cni-daemon-watchdog");
            t.setDaemon(true);
            return t;
        });
        w.setRemoveOnCancelPolicy(true);
        this.watchdog = w;
        this.acceptor = new Thread(this::acceptLoop, "cni-daemon-accept");
    }

    /**
     * Binds the socket and starts serving {@code plugins} (by executable name: {@code nodekit-bridge},
     * {@code loopback}...).
     *
     * @throws IOException when the socket cannot be set up, or another daemon answers on it
     */
    public static CniDaemon start(DaemonConfig config, Map<String, CniPlugin> plugins) throws IOException {
        return start(config, plugins, Path.of("/proc/self/ns/net"));
    }

    /** As {@link #start(DaemonConfig, Map)}, comparing CNI_NETNS with {@code ownNetns} (tests pass a plain file). */
    public static CniDaemon start(DaemonConfig config, Map<String, CniPlugin> plugins, Path ownNetns) throws IOException {
        Path socket = config.socket();
        Path dir = socket.getParent();
        prepareDirectory(dir, config.ownSocketDir());
        if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            if (answers(socket)) {
                throw new IOException("another daemon is serving " + socket + "; stop it first");
            }
            LOG.atInfo().addKeyValue("socket", socket).log("replacing a stale socket (nobody answers on it)");
        }
        Path tmp = dir.resolve("." + socket.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        Files.deleteIfExists(tmp);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        boolean ok = false;
        try {
            server.bind(UnixDomainSocketAddress.of(tmp), config.maxConnections());
            Files.setPosixFilePermissions(tmp, SOCKET_MODE);
            Files.move(tmp, socket, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Object key = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            UserPrincipal owner = Files.getOwner(socket, LinkOption.NOFOLLOW_LINKS);
            CniDaemon d = new CniDaemon(config, server, key, owner, plugins, ownNetns);
            d.acceptor.start();
            ok = true;
            LOG.atInfo().addKeyValue("socket", socket).addKeyValue("plugins", plugins.keySet())
                    .addKeyValue("max_concurrent", config.maxConcurrent())
                    .addKeyValue("max_connections", config.maxConnections()).log("CNI daemon serving");
            return d;
        } finally {
            if (!ok) {
                server.close();
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static void prepareDirectory(Path dir, boolean own) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir.getParent());
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // Created concurrently: checked below like any existing directory.
            }
            Files.setPosixFilePermissions(dir, DIR_MODE);
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("socket directory " + dir + " is not a directory");
        }
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        if (!mode.equals(DIR_MODE) && own) {
            LOG.atInfo().addKeyValue("dir", dir).addKeyValue("was", PosixFilePermissions.toString(mode))
                    .log("making the socket directory owner-only");
            Files.setPosixFilePermissions(dir, DIR_MODE);
            mode = DIR_MODE;
        }
        if (!mode.equals(DIR_MODE)) {
            throw new IOException("socket directory " + dir + " is " + PosixFilePermissions.toString(mode)
                    + "; it must be rwx------ (a directory of the daemon's own, such as /run/nodekit; "
                    + "--own-socket-dir makes it so)");
        }
    }

    /** Whether something accepts connections on {@code socket}. */
    private static boolean answers(Path socket) {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            return c.isConnected();
        } catch (IOException e) {
            return false;
        }
    }

    /** The socket served. */
    public Path socket() {
        return config.socket();
    }

    /** Plugin calls running now. */
    public int running() {
        return gate.running();
    }

    /** Connections being served now (calls running or waiting, and requests being read). */
    public int connections() {
        return connections.get();
    }

    /** Attachments with a call running or waiting (for tests: back to zero when idle). */
    int trackedAttachments() {
        return gate.trackedAttachments();
    }

    private void acceptLoop() {
        while (!closing) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closing) {
                    return;
                }
                LOG.atWarn().setCause(e).log("accept failed; continuing");
                sleepQuietly(50);
                continue;
            }
            try {
                workers.execute(() -> serve(ch));
            } catch (RejectedExecutionException e) {
                refuse(ch, CniWire.REFUSED_BUSY, closing ? "the nodekit CNI daemon is stopping"
                        : "the nodekit CNI daemon serves " + config.maxConnections() + " connections at once");
            }
        }
    }

    private void refuse(SocketChannel ch, int code, String message) {
        // A refusal is a few bytes into a fresh socket's empty buffer: it cannot block.
        try (ch) {
            CniWire.writeRefusal(Channels.newOutputStream(ch), code, message);
        } catch (IOException e) {
            // The client is gone already.
        }
        LOG.atWarn().addKeyValue("refusal", code).log(message);
    }

    private void serve(SocketChannel ch) {
        connections.incrementAndGet();
        long start = System.nanoTime();
        Future<?> deadline = closeAfter(ch);
        CniWire.Request request = null;
        CniWire.Answer answer = null;
        try (ch) {
            if (!isOwner(ch)) {
                CniWire.writeRefusal(Channels.newOutputStream(ch), CniWire.REFUSED_FORBIDDEN,
                        "only " + owner.getName() + " may use this socket");
                LOG.atWarn().log("refused a client that is not the daemon's user");
                return;
            }
            InputStream in = Channels.newInputStream(ch);
            OutputStream out = Channels.newOutputStream(ch);
            try {
                request = CniWire.readRequest(in);
            } catch (WireException e) {
                CniWire.writeRefusal(out, e.refusal(), e.getMessage());
                LOG.atWarn().addKeyValue("refusal", e.refusal()).log("refused a request: " + e.getMessage());
                return;
            }
            CniWire.writeReady(out, request.version());
            if (!CniWire.readCommit(in)) {
                LOG.atInfo().addKeyValue("plugin", request.plugin()).addKeyValue("command", request.env().get(
                        CniDispatcher.CNI_COMMAND)).log("client withdrew before committing; nothing was run");
                return;
            }
            deadline.cancel(false);
            answer = run(request);
            deadline = closeAfter(ch);
            try {
                CniWire.writeDone(out, request.version(), answer);
            } catch (IOException e) {
                LOG.atWarn().addKeyValue("plugin", request.plugin()).addKeyValue("container_id",
                        request.env().get(CniDispatcher.CNI_CONTAINERID)).log("client left before the answer (it timed out): "
                        + e);
            }
        } catch (EOFException | AsynchronousCloseException e) {
            LOG.atWarn().addKeyValue("request", request).log("client closed or stalled before a whole request/commit");
        } catch (IOException | WireException e) {
            LOG.atWarn().addKeyValue("request", request).setCause(e).log("connection failed");
        } catch (RuntimeException e) {
            LOG.atError().addKeyValue("request", request).setCause(e).log("unexpected failure serving a CNI call");
        } finally {
            deadline.cancel(false);
            connections.decrementAndGet();
            if (answer != null) {
                Map<String, String> env = request.env();
                LOG.atInfo().addKeyValue("plugin", request.plugin()).addKeyValue("command", env.get(CniDispatcher.CNI_COMMAND))
                        .addKeyValue("container_id", env.get(CniDispatcher.CNI_CONTAINERID))
                        .addKeyValue("ifname", env.get(CniDispatcher.CNI_IFNAME)).addKeyValue("exit", answer.exit())
                        .addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000).log("cni call");
            }
        }
    }

    /** Runs one committed call through the dispatcher of its plugin. */
    CniWire.Answer run(CniWire.Request request) {
        CniDispatcher d = dispatchers.getOrDefault(request.plugin(), unknown);
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        ByteArrayOutputStream err = new ByteArrayOutputStream(0);
        int exit = d.run(request.env(), new ByteArrayInputStream(request.stdin()), out, err);
        return new CniWire.Answer(exit & 0xff, out.toByteArray(), err.toByteArray());
    }

    private boolean isOwner(SocketChannel ch) {
        try {
            UnixDomainPrincipal p = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
            return p != null && p.user().getName().equals(owner.getName());
        } catch (IOException | UnsupportedOperationException e) {
            LOG.atWarn().setCause(e).log("cannot read the peer's credentials; refusing");
            return false;
        }
    }

    private Future<?> closeAfter(SocketChannel ch) {
        Runnable close = () -> {
            try {
                ch.close();
            } catch (IOException e) {
                // Closing is all we wanted.
            }
        };
        try {
            return watchdog.schedule(close, config.ioTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // Stopped past the grace period: no more waiting on this client.
            close.run();
            return CompletableFuture.completedFuture(null);
        }
    }

    /**
     * Stops: no new connections, the socket removed (if it is still ours), calls in flight given
     * {@link DaemonConfig#shutdownGrace()} to finish.
     */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        try {
            server.close();
        } catch (IOException e) {
            LOG.atWarn().setCause(e).log("closing the server socket");
        }
        removeSocketIfOurs();
        workers.shutdown();
        try {
            if (!workers.awaitTermination(config.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.atWarn().addKeyValue("running", gate.running()).log("calls still running after the shutdown grace; "
                        + "interrupting them");
                workers.shutdownNow();
            }
            acceptor.join(5000);
        } catch (InterruptedException e) {
            workers.shutdownNow();
            Thread.currentThread().interrupt();
        }
        watchdog.shutdownNow();
        LOG.atInfo().addKeyValue("socket", config.socket()).log("CNI daemon stopped");
    }

    /** Blocks until the daemon has been closed and its calls have finished. */
    public void awaitTermination() throws InterruptedException {
        acceptor.join();
        while (!workers.awaitTermination(1, TimeUnit.HOURS)) {
            // Keep waiting.
        }
    }

    private void removeSocketIfOurs() {
        Path s = config.socket();
        try {
            Object key = Files.readAttributes(s, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            if (key != null && key.equals(socketKey)) {
                Files.deleteIfExists(s);
            }
        } catch (IOException e) {
            // Gone already, or replaced by another daemon's: leave it.
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "CniDaemon[" + config.socket() + "]";
    }

    /** What a request for a plugin name the daemon does not serve gets: code 999 naming the ones it does. */
    private static final class Unknown implements CniPlugin {
        private final String known;

        Unknown(String known) {
            this.known = known;
        }

        private CniException error() {
            return new CniException(CniError.INTERNAL, "the nodekit CNI daemon serves no such plugin", "it serves " + known);
        }

        @Override
        public Result add(CniRequest request) throws CniException {
            throw error();
        }

        @Override
        public void del(CniRequest request) throws CniException {
            throw error();
        }

        @Override
        public void check(CniRequest request) throws CniException {
            throw error();
        }

        @Override
        public void status(CniRequest request) throws CniException {
            throw error();
        }

        @Override
        public void gc(CniRequest request) throws CniException {
            throw error();
        }

        @Override
        public String about() {
            return "nodekit CNI daemon: unknown plugin (it serves " + known + ")";
        }
    }
}
