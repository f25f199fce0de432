package dev.nodekit.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code --step-by-step}: before each step the demo says what comes next and waits for Enter, so a
 * presenter can explain each step. Ctrl-C while it waits stops the demo at once (the wait polls
 * the cancellation flag; the terminal's line is read on a daemon thread). When input ends (not a
 * terminal, or Ctrl-D) the demo says so and runs the remaining steps without waiting.
 */
final class StepGate {
    private static final Object LINE = new Object();
    private static final Object END = new Object();

    private final LinkedBlockingQueue<Object> input = new LinkedBlockingQueue<>();
    private boolean open;

    private StepGate(boolean open) {
        this.open = open;
    }

    /** No waiting: the demo runs through. */
    static StepGate none() {
        return new StepGate(true);
    }

    /** Waits for a line of {@code in} before each step. */
    static StepGate enterOn(InputStream in) {
        StepGate g = new StepGate(false);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                while (r.readLine() != null) {
                    g.input.add(LINE);
                }
            } catch (IOException e) {
                // treated as the end of input: the demo goes on without waiting
            }
            g.input.add(END);
        }, "nodekit-demo-stdin");
        reader.setDaemon(true);
        reader.start();
        return g;
    }

    /**
     * Before step {@code n}: announces it and waits for Enter.
     *
     * @throws Narrator.Cancelled when Ctrl-C comes while waiting
     */
    void await(int n, String title, Narrator say, Cancellation cancel) throws Narrator.Cancelled {
        if (open) {
            return;
        }
        say.println("    next: step " + n + ", " + title + " - press Enter (Ctrl-C stops and cleans up)");
        while (true) {
            if (cancel.requested()) {
                throw new Narrator.Cancelled();
            }
            Object got;
            try {
                got = input.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Narrator.Cancelled();
            }
            if (got == LINE) {
                return;
            }
            if (got == END) {
                open = true;
                say.println("    (input ended: running the remaining steps without waiting)");
                return;
            }
        }
    }
}
