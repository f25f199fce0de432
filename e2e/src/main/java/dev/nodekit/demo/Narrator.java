package dev.nodekit.demo;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;

/** Prints the demo's steps, one line each: number, duration, what happened, what it proves. */
final class Narrator {
    private final PrintWriter out;
    private final Cancellation cancel;
    private final StepGate gate;
    private final long start = System.nanoTime();
    private int number;

    Narrator(PrintWriter out, Cancellation cancel) {
        this(out, cancel, StepGate.none());
    }

    /** A narrator that passes each step through {@code gate} first ({@code --step-by-step}). */
    Narrator(PrintWriter out, Cancellation cancel, StepGate gate) {
        this.out = out;
        this.cancel = cancel;
        this.gate = gate;
    }

    /** What a step did and what that shows; printed after it ran. */
    record Line(String what, String proves) {
    }

    /** A step's work; returns its line. */
    @FunctionalInterface
    interface Step {
        Line run() throws Exception;
    }

    /**
     * Runs {@code step} unless a Ctrl-C came in, prints its line with its duration, and returns.
     *
     * @throws Cancelled when Ctrl-C was pressed before the step began (or while waiting for Enter)
     * @throws StepFailed when the step threw or found something wrong (its title and the cause)
     */
    void step(String title, Step step) throws Cancelled, StepFailed {
        if (cancel.requested()) {
            throw new Cancelled();
        }
        gate.await(number + 1, title, this, cancel);
        int n = ++number;
        long t0 = System.nanoTime();
        Line line;
        try {
            line = step.run();
        } catch (Exception e) {
            String seconds = seconds(System.nanoTime() - t0);
            println(String.format(Locale.ROOT, "%2d. %7s  FAILED: %s: %s", n, seconds, title, message(e)));
            throw new StepFailed(title, e);
        }
        println(String.format(Locale.ROOT, "%2d. %7s  %s -> %s", n, seconds(System.nanoTime() - t0), line.what(),
                line.proves()));
    }

    void println(String text) {
        out.println(text);
        out.flush();
    }

    /** Time since the narrator was made. */
    Duration elapsed() {
        return Duration.ofNanos(System.nanoTime() - start);
    }

    int steps() {
        return number;
    }

    static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
    }

    static String message(Throwable e) {
        String m = e.getMessage();
        if (e instanceof io.grpc.StatusRuntimeException s) {
            m = s.getStatus().getCode() + (s.getStatus().getDescription() == null ? ""
                    : " " + s.getStatus().getDescription());
        }
        m = m == null ? e.getClass().getSimpleName() : m;
        return m.length() > 600 ? m.substring(0, 600) + "..." : m;
    }

    /** Ctrl-C was pressed: the demo stops before its next step. */
    static final class Cancelled extends Exception {
        private static final long serialVersionUID = 1L;

        Cancelled() {
            super("interrupted by Ctrl-C");
        }
    }

    /** A step failed; carries the step's title. */
    static final class StepFailed extends Exception {
        private static final long serialVersionUID = 1L;
        private final String title;

        StepFailed(String title, Throwable cause) {
            super(title + ": " + message(cause), cause);
            this.title = title;
        }

        String title() {
            return title;
        }
    }
}
