package dev.nodekit.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Runs a phase's steps on a fixed number of threads, each taking every {@code conc}-th step. */
public final class Strided {
    /** One step of a phase, by index. */
    @FunctionalInterface
    public interface Step {
        void run(int i) throws Exception;
    }

    private Strided() {
    }

    /**
     * Runs steps 0..n-1 on {@code conc} threads (thread k takes k, k+conc, ...) and returns the wall
     * time in nanoseconds; the first failing step fails the phase.
     */
    public static long run(int conc, int n, Step step) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(conc);
        try {
            long start = System.nanoTime();
            List<Future<?>> fs = new ArrayList<>();
            for (int k = 0; k < conc; k++) {
                int first = k;
                fs.add(pool.submit(() -> {
                    for (int i = first; i < n; i += conc) {
                        step.run(i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
            return System.nanoTime() - start;
        } finally {
            pool.shutdownNow();
        }
    }
}
