package dev.nodekit.common.grpc;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

import org.slf4j.event.Level;

import io.grpc.Status;

/**
 * One finished gRPC call, as the access log reports it: what {@link InterceptorOptions#accessLogSink()}
 * receives, exactly once per call.
 *
 * @param method the full method name, e.g. {@code csi.v1.Node/NodeStageVolume}
 * @param requestId the call's request id ({@code "-"} if no request id interceptor ran)
 * @param duration from the interceptor seeing the call to its close or cancellation
 * @param code the final status code
 * @param description the status description of a failed call, if any
 * @param level INFO, or DEBUG for a successful call of a quiet method
 * @param request the first request message, redacted by {@link Redactor}, if bodies are logged
 */
public record AccessLogEntry(String method, String requestId, Duration duration, Status.Code code,
        Optional<String> description, Level level, Optional<String> request) {

    public AccessLogEntry {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(duration, "duration");
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(level, "level");
        Objects.requireNonNull(request, "request");
    }

    /** The duration in milliseconds with one decimal, as the log line shows it. */
    public String durationMillis() {
        long tenths = duration.toNanos() / 100_000;
        return (tenths / 10) + "." + (tenths % 10);
    }
}
