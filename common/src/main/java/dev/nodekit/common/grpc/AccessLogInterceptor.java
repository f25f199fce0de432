package dev.nodekit.common.grpc;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

import com.google.protobuf.MessageOrBuilder;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/** Reports every call exactly once (method, request id, duration, code, error) to the access log sink. */
final class AccessLogInterceptor implements ServerInterceptor {
    private static final Logger log = LoggerFactory.getLogger(AccessLogInterceptor.class);

    private final InterceptorOptions options;

    AccessLogInterceptor(InterceptorOptions options) {
        this.options = options;
    }

    /** Whether the default sink would print request bodies: only when this logger is at DEBUG. */
    static boolean debugEnabled() {
        return log.isDebugEnabled();
    }

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
            ServerCallHandler<ReqT, RespT> next) {
        long start = System.nanoTime();
        String method = call.getMethodDescriptor().getFullMethodName();
        String requestId = RequestIds.current().orElse("-");
        boolean quiet = options.quietMethods().contains(method);
        boolean captureBody = options.logRequestBodies().getAsBoolean();
        AtomicReference<String> body = new AtomicReference<>(); // the first request only
        return CallEnds.intercept(call, headers, next,
                captureBody ? m -> {
                    if (body.get() == null) {
                        body.set(m instanceof MessageOrBuilder mob
                                ? Redactor.toLogString(mob)
                                : "<" + m.getClass().getSimpleName() + ">");
                    }
                } : null,
                status -> {
                    Level level = quiet && status.isOk() ? Level.DEBUG : Level.INFO;
                    AccessLogEntry entry = new AccessLogEntry(method, requestId,
                            Duration.ofNanos(System.nanoTime() - start), status.getCode(),
                            status.isOk() ? Optional.empty() : Optional.ofNullable(status.getDescription()),
                            level, Optional.ofNullable(body.get()));
                    try {
                        options.accessLogSink().accept(entry);
                    } catch (RuntimeException e) {
                        log.atWarn().setCause(e).addKeyValue("method", method).log("access log sink failed");
                    }
                });
    }

    /** The default sink: one key=value line per call; the request id goes through the MDC like on every other line. */
    static void logLine(AccessLogEntry e) {
        String previous = MDC.get(RequestIds.MDC_KEY);
        MDC.put(RequestIds.MDC_KEY, e.requestId());
        try {
            LoggingEventBuilder b = log.atLevel(e.level())
                    .addKeyValue("method", e.method())
                    .addKeyValue("code", e.code())
                    .addKeyValue("duration_ms", e.durationMillis());
            e.description().ifPresent(d -> b.addKeyValue("error", d));
            if (log.isDebugEnabled()) {
                e.request().ifPresent(r -> b.addKeyValue("request", r));
            }
            b.log("grpc call");
        } finally {
            RequestIdInterceptor.restore(previous);
        }
    }
}
