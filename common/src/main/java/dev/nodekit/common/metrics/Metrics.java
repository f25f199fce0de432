package dev.nodekit.common.metrics;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The metrics of one program: a {@link PrometheusRegistry} plus the instrument sets registered in
 * it. A program creates one with {@link #create()} in {@code main} and passes it to whatever
 * records metrics (the gRPC interceptors, a backend), so tests get a fresh, isolated registry each.
 * {@link #defaultMetrics()} is the one explicit global, over Prometheus' default registry, for code
 * that must share it with third-party libraries.
 *
 * <p>A Prometheus registry refuses a second metric of the same name, so a family of instruments
 * (say the gRPC server metrics) is registered once per {@code Metrics} through
 * {@link #instruments(Class, Function)}, however many servers or interceptor chains use it.
 */
public final class Metrics {
    private static final class DefaultHolder {
        static final Metrics DEFAULT = new Metrics(PrometheusRegistry.defaultRegistry);
    }

    private final PrometheusRegistry registry;
    private final ConcurrentMap<Class<?>, Object> instruments = new ConcurrentHashMap<>();

    private Metrics(PrometheusRegistry registry) {
        this.registry = registry;
    }

    /** Metrics over a new, empty registry: what {@code main} and tests use. */
    public static Metrics create() {
        return new Metrics(new PrometheusRegistry());
    }

    /**
     * Metrics over a registry the caller owns. Wrap each registry once: two wrappers of the same
     * registry would each try to register the same instruments and the second would fail.
     */
    public static Metrics of(PrometheusRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        if (registry == PrometheusRegistry.defaultRegistry) {
            return defaultMetrics();
        }
        return new Metrics(registry);
    }

    /** The process-wide metrics over {@link PrometheusRegistry#defaultRegistry}. */
    public static Metrics defaultMetrics() {
        return DefaultHolder.DEFAULT;
    }

    /** The registry the instruments live in, for registering program-specific metrics. */
    public PrometheusRegistry registry() {
        return registry;
    }

    /**
     * The instrument set of {@code type} in this registry, registering it with {@code register} the
     * first time. {@code register} must create and register its metrics in the registry it is given.
     */
    public <T> T instruments(Class<T> type, Function<PrometheusRegistry, ? extends T> register) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(register, "register");
        return type.cast(instruments.computeIfAbsent(type, t -> Objects.requireNonNull(register.apply(registry),
                () -> "instrument factory for " + t.getName() + " returned null")));
    }

    /**
     * Adds the standard JVM metrics (memory, GC, threads, classes, process CPU and file descriptors).
     * They are read at scrape time only; registering costs tens of milliseconds of class loading, so
     * long-running servers call this and short-lived executables (the CNI plugin) do not. Idempotent.
     */
    public Metrics registerJvmMetrics() {
        instruments(JvmMetricsMarker.class, r -> {
            JvmMetrics.builder().register(r);
            return new JvmMetricsMarker();
        });
        return this;
    }

    /** The current values in the Prometheus text format (0.0.4), as served on {@code /metrics}. */
    public String scrapeText() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory failed", e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Marks that the JVM metrics are registered. */
    private static final class JvmMetricsMarker {
    }
}
