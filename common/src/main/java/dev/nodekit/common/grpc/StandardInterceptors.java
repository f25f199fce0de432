package dev.nodekit.common.grpc;

import java.util.List;
import java.util.Objects;

import dev.nodekit.common.metrics.Metrics;
import io.grpc.ServerInterceptor;

/**
 * The server interceptors every nodekit gRPC server runs, and the one place that fixes their order.
 * {@link #standard} returns them <b>outermost first</b>, the order {@link UdsServer.Builder#interceptors}
 * and {@link io.grpc.ServerInterceptors#interceptForward} expect:
 * <ol>
 *   <li>request id: everything after it, logs included, sees the id;</li>
 *   <li>access log: one line per call, including calls the catch-all turned into INTERNAL;</li>
 *   <li>metrics: counts the final status code, the same one the log shows;</li>
 *   <li>catch-all: closest to the handler, so its INTERNAL status passes through log and metrics.</li>
 * </ol>
 */
public final class StandardInterceptors {
    private StandardInterceptors() {
    }

    /** The standard chain, outermost first. */
    public static List<ServerInterceptor> standard(Metrics metrics, InterceptorOptions options) {
        return List.of(requestId(), accessLog(options), metrics(metrics), catchAll());
    }

    /** Request id from {@code x-request-id} or generated; in the Context and the MDC; echoed. See {@link RequestIds}. */
    public static ServerInterceptor requestId() {
        return new RequestIdInterceptor();
    }

    /** Exactly one {@link AccessLogEntry} per call to {@code options.accessLogSink()}. */
    public static ServerInterceptor accessLog(InterceptorOptions options) {
        return new AccessLogInterceptor(Objects.requireNonNull(options, "options"));
    }

    /**
     * Per-method metrics in {@code metrics}: {@code grpc_server_started_total},
     * {@code grpc_server_handled_total}, {@code grpc_server_handling_seconds} (by code) and
     * {@code grpc_server_in_flight}, labelled {@code grpc_service}, {@code grpc_method}, {@code grpc_code}.
     */
    public static ServerInterceptor metrics(Metrics metrics) {
        Objects.requireNonNull(metrics, "metrics");
        return new MetricsInterceptor(metrics.instruments(GrpcServerMetrics.class, GrpcServerMetrics::register));
    }

    /**
     * Turns an exception escaping a handler into a status: a {@link io.grpc.StatusRuntimeException}
     * into its own status, anything else into INTERNAL with a description naming the exception and
     * request id, logging the cause once at ERROR.
     */
    public static ServerInterceptor catchAll() {
        return new CatchAllInterceptor();
    }
}
