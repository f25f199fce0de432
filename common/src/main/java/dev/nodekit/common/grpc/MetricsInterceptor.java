package dev.nodekit.common.grpc;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/** Counts calls, times them by status code and tracks those in flight, per method. */
final class MetricsInterceptor implements ServerInterceptor {
    private final GrpcServerMetrics m;

    MetricsInterceptor(GrpcServerMetrics metrics) {
        this.m = metrics;
    }

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
            ServerCallHandler<ReqT, RespT> next) {
        long start = System.nanoTime();
        String full = call.getMethodDescriptor().getFullMethodName();
        String service = String.valueOf(MethodDescriptor.extractFullServiceName(full));
        String method = String.valueOf(MethodDescriptor.extractBareMethodName(full));
        m.started.labelValues(service, method).inc();
        m.inFlight.labelValues(service, method).inc();
        return CallEnds.intercept(call, headers, next, null, status -> {
            String code = status.getCode().name();
            m.inFlight.labelValues(service, method).dec();
            m.handled.labelValues(service, method, code).inc();
            m.handling.labelValues(service, method, code).observe((System.nanoTime() - start) / 1e9);
        });
    }
}
