package dev.nodekit.crishim;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.common.config.ConfigException;
import dev.nodekit.common.config.ConfigLoader;
import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.common.grpc.UdsServer;
import dev.nodekit.common.grpc.UdsServerException;
import dev.nodekit.common.metrics.Metrics;
import dev.nodekit.crishim.api.CriInterceptor;
import dev.nodekit.crishim.api.CriInterceptorProvider;
import dev.nodekit.crishim.api.FailureMode;
import dev.nodekit.crishim.api.InterceptorContext;
import dev.nodekit.crishim.api.UpstreamView;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;

/**
 * A running CRI shim: kubelet's runtime endpoint, forwarding to one or more runtimes through the
 * interceptor chain. {@link #start} returns once the socket accepts calls, whether or not the
 * runtimes are up (calls fail with UNAVAILABLE until they are); {@link #close} drains and stops.
 */
public final class CriShim implements AutoCloseable {
    /**
     * I/O threads shared by the server and the upstream channels. One: a forwarded call is read,
     * forwarded, answered and written on the same thread, with no cross-thread wake-up (each one
     * costs tens of microseconds on a busy node); kubelet's few calls a second are far from what one
     * thread forwards. Hooks never run here (they have their own pool).
     */
    static final int IO_THREADS = 1;
    /** Only the shim itself talks to its internal gRPC socket. */
    static final String INTERNAL_SOCKET_MODE = "0600";
    private static final Logger log = LoggerFactory.getLogger(CriShim.class);

    private final CriShimConfig config;
    private final Plugins plugins;
    private final Upstreams upstreams;
    private final IdMap ids;
    private final HookRunner hooks;
    private final List<ChainEntry> chain;
    private final UdsServer server;
    private final ShimRegistry registry;
    private final EventLoopGroup loop;
    private final FrameFront front;
    private final Object closeLock = new Object();
    private boolean closed;

    private CriShim(CriShimConfig config, Plugins plugins, Upstreams upstreams, IdMap ids, HookRunner hooks,
            List<ChainEntry> chain, UdsServer server, ShimRegistry registry, EventLoopGroup loop, FrameFront front) {
        this.config = config;
        this.plugins = plugins;
        this.upstreams = upstreams;
        this.ids = ids;
        this.hooks = hooks;
        this.chain = chain;
        this.server = server;
        this.registry = registry;
        this.loop = loop;
        this.front = front;
    }

    /**
     * Builds the chain, binds the socket and starts serving.
     *
     * @param shutdownHook whether SIGTERM/SIGINT close the shim gracefully (the command: yes; tests: no)
     * @throws ConfigException if an interceptor's settings are invalid
     * @throws CriShimException if the socket cannot be bound or a plug-in does not load
     */
    public static CriShim start(CriShimConfig config, Metrics metrics, Clock clock, boolean shutdownHook)
            throws ConfigException, CriShimException {
        return start(config, metrics, clock, shutdownHook, List.of());
    }

    /** As {@link #start(CriShimConfig, Metrics, Clock, boolean)}, with providers given in code besides the built-in ones. */
    public static CriShim start(CriShimConfig config, Metrics metrics, Clock clock, boolean shutdownHook,
            List<CriInterceptorProvider> providers) throws ConfigException, CriShimException {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(clock, "clock");
        long t0 = System.nanoTime();
        Plugins plugins = Plugins.load(config.pluginPath(), providers);
        EventLoopGroup loop = UdsChannels.newEventLoopGroup(IO_THREADS, "nodekit-cri-io");
        Upstreams upstreams = new Upstreams(config.upstreams(), config.routing().defaultUpstream(), loop);
        List<ChainEntry> entries = new ArrayList<>();
        HookRunner hooks = null;
        IdMap ids = null;
        UdsServer server = null;
        FrameFront front = null;
        boolean ok = false;
        try {
            List<UpstreamView> views = List.copyOf(upstreams.all());
            for (int i = 0; i < config.interceptors().size(); i++) {
                entries.add(create(config, i, plugins, metrics, clock, views));
            }
            Chain chainOfHooks = Chain.register(entries);
            hooks = new HookRunner(metrics.instruments(ShimMetrics.class, ShimMetrics::register));
            ids = new IdMap(upstreams);
            Router router = new Router(upstreams, config.routing(), ids);
            if (!upstreams.single()) {
                upstreams.onConnected(ids::refreshLater);
            }
            Engine engine = new Engine(chainOfHooks, hooks, router, upstreams, config.routing().listFailure());
            ShimRegistry registry = new ShimRegistry(engine);
            boolean frames = config.passThrough() == CriShimConfig.PassThrough.FRAMES;
            Path grpcSocket = frames ? internalSocket(config.listen()) : config.listen();
            if (frames) {
                // A live shim on the public socket is the error to report, not its hidden one being busy.
                UdsServer.prepareSocketPath(config.listen());
            }
            server = UdsServer.builder(grpcSocket)
                    .eventLoopGroup(loop)
                    .fallbackHandlerRegistry(registry)
                    .directExecutor(true)
                    .socketMode(frames ? INTERNAL_SOCKET_MODE : config.socketMode())
                    .shutdownGrace(config.shutdownGrace())
                    .shutdownHook(false)
                    .build()
                    .start();
            upstreams.start();
            if (frames) {
                front = FrameFront.start(config, loop.next(), engine, registry.knownPlans(), upstreams.primary(),
                        grpcSocket);
            }
            CriShim shim = new CriShim(config, plugins, upstreams, ids, hooks, List.copyOf(entries), server, registry,
                    loop, front);
            if (shutdownHook) {
                Runtime.getRuntime().addShutdownHook(new Thread(shim::close, "nodekit-cri-shim-shutdown"));
            }
            long decoded = registry.knownPlans().stream().filter(p -> !p.passThrough()).count();
            log.atInfo().addKeyValue("listen", config.listen()).addKeyValue("upstreams", upstreams.all())
                    .addKeyValue("chain", entries).addKeyValue("intercepted_methods", decoded)
                    .addKeyValue("pass_through", config.passThrough().name().toLowerCase(java.util.Locale.ROOT))
                    .addKeyValue("startup_ms", (System.nanoTime() - t0) / 1_000_000).log("CRI shim serving");
            ok = true;
            return shim;
        } catch (UdsServerException e) {
            throw new CriShimException("cannot listen on " + config.listen() + ": " + e.getMessage(), e);
        } finally {
            if (!ok) {
                if (front != null) {
                    front.close();
                }
                if (server != null) {
                    server.shutdown(Duration.ZERO);
                }
                upstreams.close();
                loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                if (ids != null) {
                    ids.close();
                }
                if (hooks != null) {
                    hooks.close();
                }
                closeAll(entries);
                plugins.close();
            }
        }
    }

    private static ChainEntry create(CriShimConfig config, int index, Plugins plugins, Metrics metrics, Clock clock,
            List<UpstreamView> views) throws ConfigException, CriShimException {
        InterceptorConfig ic = config.interceptors().get(index);
        CriInterceptorProvider provider = plugins.providers().get(ic.type());
        String where = config.file().map(f -> f.source() + ": ").orElse("") + "interceptors[" + index + "]";
        if (provider == null) {
            throw new CriShimException(where + ".type: no interceptor type '" + ic.type() + "' (known: "
                    + new TreeSet<>(plugins.providers().keySet()) + "; plug-ins load from pluginPath)");
        }
        FailureMode mode = ic.failure() != null ? ic.failure() : provider.defaultFailureMode();
        InterceptorContext ctx = new Context(ic.name(), config, index, metrics, clock, views);
        CriInterceptor interceptor;
        try {
            interceptor = provider.create(ctx);
        } catch (RuntimeException e) {
            throw new CriShimException(where + " (" + ic.name() + "): the " + ic.type()
                    + " interceptor failed to start: " + e, e);
        }
        if (interceptor == null) {
            throw new CriShimException(where + ": provider " + provider.getClass().getName() + " returned no interceptor");
        }
        return new ChainEntry(ic.name(), ic.type(), mode, ic.budget(), interceptor);
    }

    /** The socket kubelet connects to. */
    public Path socketPath() {
        return config.listen();
    }

    /**
     * Where the gRPC server listens behind the frame front: beside the public socket, hidden, mode
     * {@value #INTERNAL_SOCKET_MODE}, so a restarted shim finds and replaces its own stale one.
     */
    static Path internalSocket(Path listen) {
        return listen.resolveSibling("." + listen.getFileName() + ".grpc");
    }

    /** The runtimes, in config order. */
    public List<UpstreamView> upstreams() {
        return List.copyOf(upstreams.all());
    }

    /** The plans of the 41 CRI methods: what is decoded and how it is routed. */
    List<MethodPlan> plans() {
        return registry.knownPlans();
    }

    /** The frame front, when {@code passThrough: frames} (tests). */
    java.util.Optional<FrameFront> frameFront() {
        return java.util.Optional.ofNullable(front);
    }

    /** The config it runs with. */
    public CriShimConfig config() {
        return config;
    }

    /** Pods and containers whose runtime the shim knows (routing over several upstreams). */
    public int knownIds() {
        return ids.size();
    }

    /**
     * Stops accepting calls, lets in-flight ones finish for the configured grace, then closes the
     * connections to the runtimes and the interceptors. Idempotent; a second caller returns at once.
     */
    @Override
    public void close() {
        synchronized (closeLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        long t0 = System.nanoTime();
        if (front != null) {
            front.close(); // drains kubelet's calls first: intercepted ones are still served behind it
        }
        server.close();
        upstreams.close();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
        ids.close();
        hooks.close();
        closeAll(chain);
        plugins.close();
        log.atInfo().addKeyValue("listen", config.listen())
                .addKeyValue("duration_ms", (System.nanoTime() - t0) / 1_000_000).log("CRI shim stopped");
    }

    /** Blocks until the shim has been closed (by {@link #close} or SIGTERM). */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /** Waits up to {@code timeout} for the shim to be closed; true if it is. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return server.awaitTermination(timeout);
    }

    private static void closeAll(List<ChainEntry> entries) {
        for (int i = entries.size() - 1; i >= 0; i--) {
            ChainEntry e = entries.get(i);
            try {
                e.interceptor().close();
            } catch (Exception ex) {
                log.atWarn().setCause(ex).addKeyValue("interceptor", e.name()).log("interceptor failed to close");
            }
        }
    }

    /** What a provider sees while building one interceptor. */
    private record Context(String name, CriShimConfig config, int index, Metrics metrics, Clock clock,
            List<UpstreamView> upstreams) implements InterceptorContext {
        @Override
        public <T> T settings(Class<T> type) throws ConfigException {
            InterceptorConfig entry = config.interceptors().get(index);
            boolean none = entry.settings() == null || entry.settings().isNull() || entry.settings().isMissingNode();
            if (none) {
                Optional<T> empty = emptyRecord(type);
                if (empty.isPresent()) {
                    return empty.get();
                }
            }
            if (config.file().isPresent()) {
                CriShimConfig.ConfigFile f = config.file().get();
                return ConfigLoader.parseSection(f.source(), f.text(), List.of("interceptors", index, "settings"), type);
            }
            return ConfigLoader.parse("interceptors[" + index + "].settings", "{}", type);
        }

        /**
         * What binding {@code {}} to a record gives (null for objects, 0/false for primitives), made
         * without the config loader: a shim without a config file then never loads Jackson, a good
         * part of its start-up time. Empty if {@code type} is no record or refuses those values (the
         * loader then reports the refusal properly).
         */
        static <T> Optional<T> emptyRecord(Class<T> type) {
            if (!type.isRecord()) {
                return Optional.empty();
            }
            java.lang.reflect.RecordComponent[] rc = type.getRecordComponents();
            Class<?>[] types = new Class<?>[rc.length];
            Object[] args = new Object[rc.length];
            for (int i = 0; i < rc.length; i++) {
                types[i] = rc[i].getType();
                args[i] = !types[i].isPrimitive() ? null : types[i] == boolean.class ? Boolean.FALSE
                        : types[i] == char.class ? Character.valueOf('\0')
                        : java.lang.reflect.Array.get(java.lang.reflect.Array.newInstance(types[i], 1), 0);
            }
            try {
                var c = type.getDeclaredConstructor(types);
                c.setAccessible(true);
                return Optional.of(c.newInstance(args));
            } catch (ReflectiveOperationException | RuntimeException e) {
                return Optional.empty();
            }
        }
    }
}
