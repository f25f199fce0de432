package dev.nodekit.crishim;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.crishim.api.CriRejection;
import dev.nodekit.crishim.api.FailureMode;
import io.grpc.Status;

/**
 * Runs hooks within their interceptor's time budget. A hook runs on a pool thread while the
 * caller waits at most the budget: a hook that hangs (and ignores the interrupt it then gets)
 * costs a pool thread, never the call. The pool is bounded and does not queue, so a pile of stuck
 * hooks turns into failures ("no hook thread free") instead of unbounded threads or waiting.
 */
final class HookRunner implements AutoCloseable {
    /** Most hook threads at once; beyond that hooks fail (open or closed, as configured). */
    static final int MAX_THREADS = 256;
    private static final Logger log = LoggerFactory.getLogger(HookRunner.class);
    /** At most one WARN per interceptor per this many nanoseconds; the metric counts every failure. */
    private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final ThreadPoolExecutor pool;
    private final ShimMetrics metrics;

    HookRunner(ShimMetrics metrics) {
        this.metrics = metrics;
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(0, MAX_THREADS, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "nodekit-cri-hook-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** The pool, for work around hooks (decoding, serial per-call events) that may block. */
    ExecutorService pool() {
        return pool;
    }

    /**
     * Runs {@code body} for interceptor {@code who} within its budget.
     *
     * @param stage "before", "after" or "completed", for logs and metrics
     */
    <T> Result<T> run(ChainEntry who, String method, String stage, Callable<T> body) {
        Future<T> f;
        try {
            f = pool.submit(body);
        } catch (RejectedExecutionException e) {
            return failed(who, method, stage, "overloaded", "no hook thread free (" + MAX_THREADS + " busy)", null);
        }
        try {
            T value = f.get(who.budget().toNanos(), TimeUnit.NANOSECONDS);
            return new Ok<>(value);
        } catch (TimeoutException e) {
            f.cancel(true);
            return failed(who, method, stage, "timeout", "ran longer than its budget of "
                    + dev.nodekit.common.config.Durations.format(who.budget()), null);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof CriRejection r) {
                metrics.interceptorRejections.labelValues(who.name(), shortName(method)).inc();
                return new Rejected<>(r.toStatus());
            }
            return failed(who, method, stage, "error", cause.getClass().getSimpleName() + ": " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            return failed(who, method, stage, "interrupted", "interrupted while waiting for the hook", null);
        }
    }

    private <T> Result<T> failed(ChainEntry who, String method, String stage, String reason, String detail,
            Throwable cause) {
        metrics.interceptorFailures.labelValues(who.name(), shortName(method), stage, reason).inc();
        if (who.shouldLog(LOG_INTERVAL_NANOS)) {
            log.atWarn().setCause(cause).addKeyValue("interceptor", who.name()).addKeyValue("method", method)
                    .addKeyValue("stage", stage).addKeyValue("reason", reason).addKeyValue("mode", who.mode())
                    .addKeyValue("suppressed", who.suppressedSinceLastLog())
                    .log(who.mode() == FailureMode.OPEN
                            ? "interceptor failed; fail-open: the call goes on without its change: " + detail
                            : "interceptor failed; fail-closed: the call fails: " + detail);
        }
        Status status;
        String text = "cri-shim: interceptor '" + who.name() + "' failed (fail-closed) on " + shortName(method)
                + " " + stage + ": " + detail;
        status = reason.equals("error") ? Status.INTERNAL.withDescription(text) : Status.UNAVAILABLE.withDescription(text);
        return new Failed<>(status, who.mode());
    }

    static String shortName(String method) {
        int slash = method.lastIndexOf('/');
        return slash < 0 ? method : method.substring(slash + 1);
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }

    /** How one hook call went. */
    sealed interface Result<T> permits Ok, Rejected, Failed {
    }

    /** The hook returned {@code value}. */
    record Ok<T>(T value) implements Result<T> {
    }

    /** The hook rejected the call on purpose. */
    record Rejected<T>(Status status) implements Result<T> {
    }

    /** The hook threw or ran out of time; {@code status} is what a fail-closed interceptor answers. */
    record Failed<T>(Status status, FailureMode mode) implements Result<T> {
    }

    /** Log rate limiting per interceptor. */
    static final class LogLimiter {
        private final AtomicLong nextLog = new AtomicLong(Long.MIN_VALUE);
        private final AtomicLong suppressed = new AtomicLong();

        boolean shouldLog(long intervalNanos) {
            long now = System.nanoTime();
            long next = nextLog.get();
            if ((next == Long.MIN_VALUE || now - next >= 0) && nextLog.compareAndSet(next, now + intervalNanos)) {
                return true;
            }
            suppressed.incrementAndGet();
            return false;
        }

        long takeSuppressed() {
            return suppressed.getAndSet(0);
        }
    }
}
