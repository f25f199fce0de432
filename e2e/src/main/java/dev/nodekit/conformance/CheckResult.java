package dev.nodekit.conformance;

import java.time.Duration;
import java.util.Objects;

/** What happened to one check: outcome, reason (empty on PASS) and how long it took. */
public record CheckResult(String id, String specSection, Outcome outcome, String reason, Duration duration) {
    public CheckResult {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(outcome, "outcome");
        reason = reason == null ? "" : reason;
        Objects.requireNonNull(duration, "duration");
    }
}
