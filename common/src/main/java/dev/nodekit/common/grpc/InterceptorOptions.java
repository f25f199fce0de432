package dev.nodekit.common.grpc;

import java.util.Arrays;
import java.util.Objects;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Settings of the standard interceptor chain ({@link StandardInterceptors#standard}).
 *
 * @param quietMethods full method names (e.g. {@code csi.v1.Identity/Probe}) whose successful calls
 *        are logged at DEBUG instead of INFO: the ones kubelet and sidecars call every few seconds
 * @param accessLogSink receives one {@link AccessLogEntry} per call; by default a key=value log line
 * @param logRequestBodies whether to capture the (redacted) first request message of each call; by
 *        default only when the access logger is at DEBUG, so INFO logs never carry bodies
 */
public record InterceptorOptions(Set<String> quietMethods, Consumer<AccessLogEntry> accessLogSink,
        BooleanSupplier logRequestBodies) {

    public InterceptorOptions {
        quietMethods = Set.copyOf(Objects.requireNonNull(quietMethods, "quietMethods"));
        for (String m : quietMethods) {
            int slash = m.indexOf('/');
            if (slash <= 0 || slash == m.length() - 1 || m.indexOf('/', slash + 1) >= 0) {
                throw new IllegalArgumentException("quiet method '" + m
                        + "' is not a full method name like csi.v1.Identity/Probe");
            }
        }
        Objects.requireNonNull(accessLogSink, "accessLogSink");
        Objects.requireNonNull(logRequestBodies, "logRequestBodies");
    }

    /** No quiet methods, access log lines through SLF4J, bodies only at DEBUG. */
    public static InterceptorOptions defaults() {
        return new InterceptorOptions(Set.of(), AccessLogInterceptor::logLine, AccessLogInterceptor::debugEnabled);
    }

    /** These options with {@code fullMethodNames} logged at DEBUG when they succeed. */
    public InterceptorOptions withQuietMethods(String... fullMethodNames) {
        return new InterceptorOptions(Set.copyOf(Arrays.asList(fullMethodNames)), accessLogSink, logRequestBodies);
    }

    /** These options with access log entries sent to {@code sink} instead of the log. */
    public InterceptorOptions withAccessLogSink(Consumer<AccessLogEntry> sink) {
        return new InterceptorOptions(quietMethods, sink, logRequestBodies);
    }

    /** These options with request bodies captured whenever {@code enabled} says so. */
    public InterceptorOptions withRequestBodies(BooleanSupplier enabled) {
        return new InterceptorOptions(quietMethods, accessLogSink, enabled);
    }
}
