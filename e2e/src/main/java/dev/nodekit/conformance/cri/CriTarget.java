package dev.nodekit.conformance.cri;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.spec.cri.v1.ImageServiceGrpc;
import dev.nodekit.spec.cri.v1.RuntimeServiceGrpc;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;

/**
 * A CRI runtime under test: the runtime endpoint (and the image endpoint when it is separate), the
 * image the checks run containers from, the runtime handler pods ask for, the per-call deadline,
 * the cgroup parent pods are put under and the directory pod logs go to.
 *
 * <p>The suite never pulls: the image must already be present on the runtime (checks that need it
 * SKIP otherwise). It must be busybox-like: {@code sh}, {@code sleep}, {@code echo}, {@code hostname},
 * {@code httpd}, {@code wget} and {@code tr}. The runtime must run on this host, because the
 * container-log check reads the log file the runtime writes.
 *
 * <p>Every call made through the stubs of one target is timed ({@link #timings()}), so a run can
 * report per-RPC latencies and a run through a proxy can be compared with a direct one.
 */
public final class CriTarget implements AutoCloseable {
    /** The busybox image nodekit's containerd fixture builds locally and imports. */
    public static final String DEFAULT_IMAGE = "localhost/busybox:1";

    private static final Pattern CGROUP_PARENT = Pattern.compile("/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*");

    /**
     * What the run is told about the runtime.
     *
     * @param endpoint       runtime endpoint, {@code unix:///path.sock}
     * @param imageEndpoint  image endpoint when it is not the runtime endpoint
     * @param image          image containers run from; must be present (never pulled)
     * @param runtimeHandler runtime handler for RunPodSandbox; empty = the runtime's default
     * @param callTimeout    deadline of one RPC (ExecSync and StopContainer add their own timeout to it)
     * @param cgroupParent   cgroup parent of the pods: cgroupfs style ({@code /nodekit}) gives pods
     *                       {@code /nodekit/pod<uid>}; systemd style ({@code nodekit.slice}) gives
     *                       {@code nodekit-pod<uid>.slice}; empty = not set, the runtime decides
     * @param logRoot        directory on this host under which each pod gets its log directory
     */
    public record Config(String endpoint, Optional<String> imageEndpoint, String image, String runtimeHandler,
            Duration callTimeout, Optional<String> cgroupParent, Path logRoot) {
        public Config {
            UdsChannels.socketPath(endpoint);
            Objects.requireNonNull(imageEndpoint, "imageEndpoint");
            imageEndpoint.ifPresent(UdsChannels::socketPath);
            Objects.requireNonNull(image, "image");
            if (image.isBlank()) {
                throw new IllegalArgumentException("--image must name an image, e.g. " + DEFAULT_IMAGE);
            }
            Objects.requireNonNull(runtimeHandler, "runtimeHandler");
            Objects.requireNonNull(callTimeout, "callTimeout");
            if (callTimeout.isNegative() || callTimeout.isZero()) {
                throw new IllegalArgumentException("call timeout must be positive, got " + callTimeout);
            }
            Objects.requireNonNull(cgroupParent, "cgroupParent");
            cgroupParent.ifPresent(p -> {
                if (!CGROUP_PARENT.matcher(p).matches() || p.contains("..")) {
                    throw new IllegalArgumentException("--cgroup-parent '" + p
                            + "' must be a cgroup path like /nodekit or a systemd slice like nodekit.slice");
                }
            });
            Objects.requireNonNull(logRoot, "logRoot");
            if (!logRoot.isAbsolute()) {
                throw new IllegalArgumentException("log root must be absolute, got " + logRoot);
            }
        }

        /** Defaults for an endpoint: {@link #DEFAULT_IMAGE}, default handler, 60 s per call, no cgroup parent, logs under the temp dir. */
        public static Config of(String endpoint) {
            return new Config(endpoint, Optional.empty(), DEFAULT_IMAGE, "", Duration.ofSeconds(60), Optional.empty(),
                    Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath());
        }

        public Config withImageEndpoint(String e) {
            return new Config(endpoint, Optional.of(e), image, runtimeHandler, callTimeout, cgroupParent, logRoot);
        }

        public Config withImage(String i) {
            return new Config(endpoint, imageEndpoint, i, runtimeHandler, callTimeout, cgroupParent, logRoot);
        }

        public Config withRuntimeHandler(String h) {
            return new Config(endpoint, imageEndpoint, image, h, callTimeout, cgroupParent, logRoot);
        }

        public Config withCallTimeout(Duration d) {
            return new Config(endpoint, imageEndpoint, image, runtimeHandler, d, cgroupParent, logRoot);
        }

        public Config withCgroupParent(String p) {
            return new Config(endpoint, imageEndpoint, image, runtimeHandler, callTimeout,
                    p == null || p.isEmpty() ? Optional.empty() : Optional.of(p), logRoot);
        }

        public Config withLogRoot(Path p) {
            return new Config(endpoint, imageEndpoint, image, runtimeHandler, callTimeout, cgroupParent, p);
        }

        /** The same run against another endpoint (for example a proxy in front of this runtime). */
        public Config withEndpoint(String e) {
            return new Config(e, imageEndpoint.isPresent() ? Optional.of(e) : Optional.empty(), image, runtimeHandler,
                    callTimeout, cgroupParent, logRoot);
        }

        /** The cgroup parent of the pod with {@code uid}, as kubelet would name it for this driver style. */
        public Optional<String> podCgroup(String uid) {
            return cgroupParent.map(p -> p.endsWith(".slice")
                    ? p.substring(0, p.length() - ".slice".length()) + "-pod" + uid.replace('-', '_') + ".slice"
                    : p + "/pod" + uid);
        }
    }

    private final Config config;
    private final Channel runtime;
    private final Channel image;
    private final List<ManagedChannel> owned;
    private final RpcTimings timings = new RpcTimings();

    private CriTarget(Config config, Channel runtime, Channel image, List<ManagedChannel> owned) {
        this.config = config;
        this.runtime = ClientInterceptors.intercept(runtime, timings);
        this.image = ClientInterceptors.intercept(image, timings);
        this.owned = owned;
    }

    /** Connects to the endpoint(s) of {@code config} over unix sockets. Nothing is called yet. */
    public static CriTarget connect(Config config) {
        ManagedChannel r = UdsChannels.forTarget(config.endpoint());
        if (config.imageEndpoint().isEmpty() || config.imageEndpoint().get().equals(config.endpoint())) {
            return new CriTarget(config, r, r, List.of(r));
        }
        ManagedChannel i = UdsChannels.forTarget(config.imageEndpoint().get());
        return new CriTarget(config, r, i, List.of(r, i));
    }

    /** A target on existing channels (tests; the caller closes them). */
    public static CriTarget of(Config config, Channel runtime, Channel image) {
        return new CriTarget(config, runtime, image, List.of());
    }

    public Config config() {
        return config;
    }

    /** RuntimeService with the configured per-call deadline. */
    public RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime() {
        return runtime(Duration.ZERO);
    }

    /** RuntimeService whose deadline is the call timeout plus {@code extra} (ExecSync, StopContainer). */
    public RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime(Duration extra) {
        return RuntimeServiceGrpc.newBlockingStub(runtime)
                .withDeadlineAfter(config.callTimeout().plus(extra).toMillis(), TimeUnit.MILLISECONDS);
    }

    /** ImageService with the configured per-call deadline. */
    public ImageServiceGrpc.ImageServiceBlockingStub images() {
        return ImageServiceGrpc.newBlockingStub(image)
                .withDeadlineAfter(config.callTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Latencies of every call made through this target so far. */
    public RpcTimings timings() {
        return timings;
    }

    @Override
    public void close() {
        for (ManagedChannel c : owned) {
            c.shutdownNow();
        }
        for (ManagedChannel c : owned) {
            try {
                c.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
