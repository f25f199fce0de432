package dev.nodekit.common.grpc;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** The gRPC server instruments, named like go-grpc-prometheus so existing dashboards apply; registered once per registry. */
final class GrpcServerMetrics {
    /** Seconds; CSI stage/publish and CRI image pulls take tens of seconds to minutes. */
    static final double[] BUCKETS = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

    final Counter started;
    final Counter handled;
    final Histogram handling;
    final Gauge inFlight;

    private GrpcServerMetrics(PrometheusRegistry registry) {
        started = Counter.builder().name("grpc_server_started_total")
                .help("gRPC calls started on the server")
                .labelNames("grpc_service", "grpc_method")
                .register(registry);
        handled = Counter.builder().name("grpc_server_handled_total")
                .help("gRPC calls finished on the server, by status code")
                .labelNames("grpc_service", "grpc_method", "grpc_code")
                .register(registry);
        handling = Histogram.builder().name("grpc_server_handling_seconds")
                .help("Time from receiving a gRPC call to its status, by status code")
                .labelNames("grpc_service", "grpc_method", "grpc_code")
                .classicOnly()
                .classicUpperBounds(BUCKETS)
                .register(registry);
        inFlight = Gauge.builder().name("grpc_server_in_flight")
                .help("gRPC calls currently being handled")
                .labelNames("grpc_service", "grpc_method")
                .register(registry);
    }

    static GrpcServerMetrics register(PrometheusRegistry registry) {
        return new GrpcServerMetrics(registry);
    }
}
