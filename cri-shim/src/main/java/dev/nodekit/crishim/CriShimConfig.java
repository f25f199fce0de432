package dev.nodekit.crishim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import dev.nodekit.common.config.ConfigException;
import dev.nodekit.common.config.ConfigLoader;
import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.common.grpc.UdsServer;

/**
 * Everything a {@link CriShim} runs with, validated: built once from the command line and the
 * optional config file ({@link #load}), then the shim starts.
 *
 * @param listen        the socket kubelet connects to
 * @param upstreams     the runtimes, at least one; the first is the default unless routing says otherwise
 * @param routing       how calls are spread over several upstreams
 * @param pluginPath    jars (or directories of jars) holding interceptor providers
 * @param interceptors  the chain, outermost first
 * @param socketMode    mode of the listening socket, octal ({@code 0660})
 * @param shutdownGrace how long in-flight calls may finish after SIGTERM
 * @param passThrough   how calls no interceptor reads are forwarded (default {@link PassThrough#FRAMES})
 * @param file          the config file's name and text, for binding interceptor settings with
 *                      errors that point into it; empty when there is no file
 */
public record CriShimConfig(Path listen, List<UpstreamConfig> upstreams, RoutingConfig routing, List<Path> pluginPath,
        List<InterceptorConfig> interceptors, String socketMode, Duration shutdownGrace, PassThrough passThrough,
        Optional<ConfigFile> file) {

    /** The chain when there is no config file (or it has no {@code interceptors:} key). */
    public static final List<InterceptorConfig> DEFAULT_CHAIN = List.of(InterceptorConfig.of("metrics"));

    public CriShimConfig {
        Objects.requireNonNull(listen, "listen");
        if (!listen.isAbsolute()) {
            throw new IllegalArgumentException("listen: socket path " + listen + " must be absolute");
        }
        upstreams = List.copyOf(upstreams);
        if (upstreams.isEmpty()) {
            throw new IllegalArgumentException("upstreams: at least one runtime is needed (--upstream or upstreams:)");
        }
        Set<String> names = new HashSet<>();
        for (UpstreamConfig u : upstreams) {
            if (!names.add(u.name())) {
                throw new IllegalArgumentException("upstreams: the name '" + u.name() + "' is used twice");
            }
            if (u.socket().equals(listen.normalize())) {
                throw new IllegalArgumentException("upstreams: '" + u.name() + "' is the shim's own socket " + listen
                        + "; the shim would call itself");
            }
        }
        routing = routing == null ? RoutingConfig.none() : routing;
        routing.validate(names);
        pluginPath = List.copyOf(pluginPath);
        interceptors = List.copyOf(interceptors);
        Set<String> chain = new HashSet<>();
        for (InterceptorConfig i : interceptors) {
            if (!chain.add(i.name())) {
                throw new IllegalArgumentException("interceptors: the name '" + i.name()
                        + "' is used twice; give one of them another name:");
            }
        }
        socketMode = socketMode == null ? UdsServer.DEFAULT_SOCKET_MODE : socketMode;
        if (!socketMode.matches("0?[0-7]{3}")) {
            throw new IllegalArgumentException("socket mode '" + socketMode + "' is not octal like 0660");
        }
        shutdownGrace = shutdownGrace == null ? UdsServer.DEFAULT_SHUTDOWN_GRACE : shutdownGrace;
        passThrough = passThrough == null ? PassThrough.FRAMES : passThrough;
        Objects.requireNonNull(file, "file");
    }

    /** A config for one upstream, no file: the default chain, default socket mode and grace. */
    public static CriShimConfig of(Path listen, String upstreamEndpoint) {
        return new CriShimConfig(listen, List.of(new UpstreamConfig(UpstreamConfig.DEFAULT_NAME, upstreamEndpoint)),
                null, List.of(), DEFAULT_CHAIN, null, null, null, Optional.empty());
    }

    /** This config with another chain (tests, benchmarks). */
    public CriShimConfig withInterceptors(List<InterceptorConfig> chain) {
        return new CriShimConfig(listen, upstreams, routing, pluginPath, chain, socketMode, shutdownGrace, passThrough,
                file);
    }

    /** This config with another pass-through mode (tests, benchmarks comparing both). */
    public CriShimConfig withPassThrough(PassThrough mode) {
        return new CriShimConfig(listen, upstreams, routing, pluginPath, interceptors, socketMode, shutdownGrace, mode,
                file);
    }

    /**
     * The config of a command line: {@code --listen}, {@code --upstream} (may be absent when the
     * file lists upstreams, and must be then), {@code --config}. {@code socketMode} and
     * {@code shutdownGrace} may be null (file value, then default).
     *
     * @throws ConfigException if the file is unreadable or invalid (file:line:col: field: what)
     * @throws IllegalArgumentException if the flags contradict each other or the file
     */
    public static CriShimConfig load(String listen, Optional<String> upstream, Optional<Path> configFile,
            String socketMode, Duration shutdownGrace) throws ConfigException {
        Path listenPath = UdsChannels.socketPath(listen);
        if (configFile.isEmpty()) {
            if (upstream.isEmpty()) {
                throw new IllegalArgumentException("--upstream is required when there is no --config file");
            }
            CriShimConfig base = of(listenPath, upstream.get());
            return new CriShimConfig(listenPath, base.upstreams(), null, List.of(), DEFAULT_CHAIN, socketMode,
                    shutdownGrace, null, Optional.empty());
        }
        Path path = configFile.get();
        String text;
        try {
            text = Files.readString(path);
        } catch (IOException e) {
            // The loader words this failure ("no such file", "not UTF-8 text") as for every other config.
            ConfigLoader.load(path, FileModel.class);
            throw new UncheckedIOException("config file " + path + " became readable while being read", e);
        }
        return fromText(listenPath, upstream, path.toString(), text, socketMode, shutdownGrace);
    }

    /** Like {@link #load}, with the file's text given; {@code source} names it in errors. */
    public static CriShimConfig fromText(Path listen, Optional<String> upstream, String source, String text,
            String socketMode, Duration shutdownGrace) throws ConfigException {
        FileModel m = ConfigLoader.parse(source, text, FileModel.class);
        List<UpstreamConfig> ups = new ArrayList<>(m.upstreams());
        if (upstream.isPresent()) {
            if (!ups.isEmpty()) {
                throw new IllegalArgumentException("--upstream and the config file's upstreams: both name runtimes; "
                        + "use one of them (" + source + ")");
            }
            ups.add(new UpstreamConfig(UpstreamConfig.DEFAULT_NAME, upstream.get()));
        }
        List<Path> plugins = m.pluginPath().stream().map(Path::of).toList();
        for (Path p : plugins) {
            if (!p.isAbsolute()) {
                throw new IllegalArgumentException(source + ": pluginPath: '" + p + "' must be an absolute path");
            }
        }
        return new CriShimConfig(listen, ups, m.routing(), plugins,
                m.interceptors() == null ? DEFAULT_CHAIN : m.interceptors(),
                socketMode != null ? socketMode : m.socketMode(),
                shutdownGrace != null ? shutdownGrace : m.shutdownGrace(), m.passThrough(),
                Optional.of(new ConfigFile(source, text)));
    }

    /**
     * How the shim forwards a call whose method no interceptor reads and whose runtime is known
     * before the request arrives (config key {@code passThrough:}).
     */
    public enum PassThrough {
        /**
         * HTTP/2 frames relayed between kubelet's stream and a stream on a shared connection to the
         * runtime, without gRPC call machinery ({@code FrameFront}); other calls go to the gRPC server
         * behind it. The default.
         */
        FRAMES,
        /** Every call through grpc-java's server and client (the shim's first design; kept to compare). */
        GRPC
    }

    /**
     * The config file's name and text.
     *
     * @param source the name errors carry (a path)
     * @param text   the YAML (or JSON) text
     */
    public record ConfigFile(String source, String text) {
        public ConfigFile {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(text, "text");
        }
    }

    /**
     * The file's shape. {@code interceptors} stays null when the key is absent (the default chain),
     * and is empty when the file says {@code interceptors: []} (no interceptor at all).
     */
    record FileModel(List<UpstreamConfig> upstreams, RoutingConfig routing, List<String> pluginPath,
            List<InterceptorConfig> interceptors, String socketMode, Duration shutdownGrace, PassThrough passThrough) {
        FileModel {
            upstreams = upstreams == null ? List.of() : List.copyOf(upstreams);
            pluginPath = pluginPath == null ? List.of() : List.copyOf(pluginPath);
            interceptors = interceptors == null ? null : List.copyOf(interceptors);
        }
    }
}
