package dev.nodekit.crishim.builtin;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import dev.nodekit.common.config.ConfigException;
import dev.nodekit.common.metrics.Metrics;
import dev.nodekit.crishim.api.CallOutcome;
import dev.nodekit.crishim.api.CriInterceptor;
import dev.nodekit.crishim.api.CriInterceptorProvider;
import dev.nodekit.crishim.api.CriMethods;
import dev.nodekit.crishim.api.Hooks;
import dev.nodekit.crishim.api.InterceptorContext;
import dev.nodekit.crishim.api.UpstreamView;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The {@code metrics} interceptor: per-RPC latency histograms and error counts for every call,
 * forwarded as bytes or not, and the health of each upstream. It only observes, so it never makes
 * the shim decode a message.
 *
 * <ul>
 *   <li>{@code cri_shim_rpc_duration_seconds{method, code}}: histogram, 100 µs to 300 s;</li>
 *   <li>{@code cri_shim_rpc_errors_total{method, code, origin}}: calls not OK; origin says who
 *       decided: {@code upstream} (the runtime's answer), {@code transport} (runtime unreachable),
 *       {@code interceptor} (rejected or failed closed), {@code client} (cancelled);</li>
 *   <li>{@code cri_shim_upstream_up{upstream}}: 1 while the connection to the runtime is up.</li>
 * </ul>
 * The method label is the RPC name; names of methods the shim does not know are kept only if they
 * look like RPC names and while there are fewer than {@value #MAX_UNKNOWN_METHODS}; the rest count
 * as {@code other}, so a misbehaving client cannot blow up the series count.
 *
 * <p>Settings: none.
 */
public final class MetricsInterceptor implements CriInterceptor {
    /** Seconds: a pass-through Version is ~100 µs, a PullImage minutes. */
    static final double[] BUCKETS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
        0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
    static final int MAX_UNKNOWN_METHODS = 32;
    private static final Pattern RPC_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9]{0,63}");

    private final Instruments instruments;
    private final ConcurrentHashMap<String, DistributionDataPoint> durations = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, String> unknownNames = new ConcurrentHashMap<>();
    private final java.util.Set<String> knownNames;

    MetricsInterceptor(Metrics metrics, List<UpstreamView> upstreams) {
        this.instruments = metrics.instruments(Instruments.class, Instruments::new);
        this.knownNames = CriMethods.all().stream().map(m -> m.name()).collect(java.util.stream.Collectors.toSet());
        instruments.watch(upstreams);
    }

    @Override
    public void register(Hooks hooks) {
        hooks.everyCall(this::record);
    }

    void record(CallOutcome o) {
        String method = label(o.shortMethod());
        String code = o.code().name();
        durations.computeIfAbsent(method + ' ' + code, k -> instruments.duration.labelValues(method, code))
                .observe(o.elapsed().toNanos() / 1e9);
        if (!o.ok()) {
            instruments.errors.labelValues(method, code, o.origin().name().toLowerCase(java.util.Locale.ROOT)).inc();
        }
    }

    private String label(String method) {
        if (knownNames.contains(method)) {
            return method;
        }
        String known = unknownNames.get(method);
        if (known != null) {
            return known;
        }
        if (!RPC_NAME.matcher(method).matches() || unknownNames.size() >= MAX_UNKNOWN_METHODS) {
            return "other";
        }
        return unknownNames.computeIfAbsent(method, m -> m);
    }

    /** The instruments, registered once per registry however many metrics interceptors there are. */
    static final class Instruments {
        final Histogram duration;
        final Counter errors;
        final java.util.List<UpstreamView> watched = new java.util.concurrent.CopyOnWriteArrayList<>();

        Instruments(PrometheusRegistry registry) {
            duration = Histogram.builder().name("cri_shim_rpc_duration_seconds")
                    .help("Time from a CRI call's arrival at the shim to its status, by RPC and status code")
                    .labelNames("method", "code")
                    .classicOnly()
                    .classicUpperBounds(BUCKETS)
                    .register(registry);
            errors = Counter.builder().name("cri_shim_rpc_errors_total")
                    .help("CRI calls through the shim that did not end OK, by RPC, code and who decided")
                    .labelNames("method", "code", "origin")
                    .register(registry);
            GaugeWithCallback.builder().name("cri_shim_upstream_up")
                    .help("1 while the shim's connection to the runtime is up")
                    .labelNames("upstream")
                    .callback(cb -> {
                        for (UpstreamView u : watched) {
                            cb.call(u.isUp() ? 1 : 0, u.name());
                        }
                    })
                    .register(registry);
        }

        synchronized void watch(List<UpstreamView> upstreams) {
            for (UpstreamView u : upstreams) {
                if (watched.stream().noneMatch(w -> w.name().equals(u.name()))) {
                    watched.add(u);
                }
            }
        }
    }

    /** Makes {@code metrics} interceptors. */
    public static final class Provider implements CriInterceptorProvider {
        @Override
        public String type() {
            return "metrics";
        }

        @Override
        public CriInterceptor create(InterceptorContext context) throws ConfigException {
            context.settings(NoSettings.class);
            return new MetricsInterceptor(context.metrics(), context.upstreams());
        }
    }

    /** The metrics interceptor takes no settings; this rejects any. */
    record NoSettings() {
    }
}
