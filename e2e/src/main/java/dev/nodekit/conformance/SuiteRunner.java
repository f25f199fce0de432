package dev.nodekit.conformance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.common.Requirement;
import io.grpc.StatusRuntimeException;

/**
 * Runs a suite against a target. Each check runs on its own thread with a time bound, so a hung
 * plugin fails one check instead of hanging the run. Checks whose host requirements are missing
 * are SKIP with the reason, or FAIL in strict mode.
 */
public final class SuiteRunner {
    private static final Logger LOG = LoggerFactory.getLogger(SuiteRunner.class);
    private final RunOptions options;

    public SuiteRunner(RunOptions options) {
        this.options = options;
    }

    /** Runs every selected check in order and returns the report. */
    public <T> SuiteReport run(Suite<T> suite, T target) {
        return run(suite, target, r -> { });
    }

    /** As {@link #run(Suite, Object)}, telling {@code listener} each result as soon as it is known. */
    public <T> SuiteReport run(Suite<T> suite, T target, Consumer<CheckResult> listener) {
        long start = System.nanoTime();
        List<CheckResult> results = new ArrayList<>();
        for (Check<T> check : suite.checks()) {
            if (!options.selects(check.id())) {
                continue;
            }
            CheckResult r = runOne(check, target);
            results.add(r);
            LOG.atInfo().addKeyValue("check", check.id()).addKeyValue("outcome", r.outcome())
                    .addKeyValue("duration_ms", r.duration().toMillis()).addKeyValue("reason", r.reason())
                    .log("conformance check");
            listener.accept(r);
        }
        return new SuiteReport(suite.name(), results, Duration.ofNanos(System.nanoTime() - start));
    }

    /** Runs one check (ignoring --only/--skip). */
    public <T> CheckResult runOne(Check<T> check, T target) {
        long start = System.nanoTime();
        List<String> missing = Requirement.missingOf(check.requirements());
        if (!missing.isEmpty()) {
            String reason = "needs " + String.join("; ", missing);
            return new CheckResult(check.id(), check.specSection(),
                    options.strict() ? Outcome.FAIL : Outcome.SKIP,
                    options.strict() ? "strict mode: " + reason : reason, Duration.ZERO);
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                check.body().run(target);
                f.complete(null);
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        }, "check-" + check.id());
        t.setDaemon(true);
        t.start();
        Outcome outcome;
        String reason;
        try {
            f.get(options.checkTimeout().toMillis(), TimeUnit.MILLISECONDS);
            outcome = Outcome.PASS;
            reason = "";
        } catch (TimeoutException e) {
            t.interrupt();
            outcome = Outcome.FAIL;
            reason = "did not finish within " + options.checkTimeout().toSeconds() + " s";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            t.interrupt();
            outcome = Outcome.FAIL;
            reason = "interrupted";
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof CheckSkipped s) {
                outcome = Outcome.SKIP;
                reason = s.getMessage();
            } else {
                outcome = Outcome.FAIL;
                reason = describe(cause);
                LOG.atDebug().setCause(cause).addKeyValue("check", check.id()).log("check failed");
            }
        }
        return new CheckResult(check.id(), check.specSection(), outcome, reason,
                Duration.ofNanos(System.nanoTime() - start));
    }

    static String describe(Throwable t) {
        if (t instanceof CheckFailed) {
            return t.getMessage();
        }
        if (t instanceof StatusRuntimeException s) {
            return "unexpected gRPC error " + s.getStatus().getCode() + ": " + s.getStatus().getDescription();
        }
        String msg = t.getMessage();
        return t.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
    }
}
