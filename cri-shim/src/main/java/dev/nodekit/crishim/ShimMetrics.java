package dev.nodekit.crishim;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** The engine's own instruments, always on: interceptor failures and rejections. */
final class ShimMetrics {
    final Counter interceptorFailures;
    final Counter interceptorRejections;

    private ShimMetrics(PrometheusRegistry registry) {
        interceptorFailures = Counter.builder().name("cri_shim_interceptor_failures_total")
                .help("Hook calls that threw or ran out of their time budget, by interceptor, method, stage and reason")
                .labelNames("interceptor", "method", "stage", "reason")
                .register(registry);
        interceptorRejections = Counter.builder().name("cri_shim_interceptor_rejections_total")
                .help("Calls an interceptor rejected on purpose, by interceptor and method")
                .labelNames("interceptor", "method")
                .register(registry);
    }

    static ShimMetrics register(PrometheusRegistry registry) {
        return new ShimMetrics(registry);
    }
}
