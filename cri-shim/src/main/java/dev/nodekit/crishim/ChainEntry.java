package dev.nodekit.crishim;

import java.time.Duration;

import dev.nodekit.crishim.api.CriInterceptor;
import dev.nodekit.crishim.api.FailureMode;

/** One interceptor of the chain with its resolved settings. */
final class ChainEntry {
    private final String name;
    private final String type;
    private final FailureMode mode;
    private final Duration budget;
    private final CriInterceptor interceptor;
    private final HookRunner.LogLimiter limiter = new HookRunner.LogLimiter();

    ChainEntry(String name, String type, FailureMode mode, Duration budget, CriInterceptor interceptor) {
        this.name = name;
        this.type = type;
        this.mode = mode;
        this.budget = budget;
        this.interceptor = interceptor;
    }

    String name() {
        return name;
    }

    String type() {
        return type;
    }

    FailureMode mode() {
        return mode;
    }

    Duration budget() {
        return budget;
    }

    CriInterceptor interceptor() {
        return interceptor;
    }

    boolean shouldLog(long intervalNanos) {
        return limiter.shouldLog(intervalNanos);
    }

    long suppressedSinceLastLog() {
        return limiter.takeSuppressed();
    }

    @Override
    public String toString() {
        return name + "(" + type + ", " + mode + ", " + budget.toMillis() + "ms)";
    }
}
