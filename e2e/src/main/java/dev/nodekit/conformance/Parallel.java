package dev.nodekit.conformance;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs calls at the same moment, as sidecars that retry and race do. All threads wait on one
 * latch so the calls really overlap instead of trickling in as threads start.
 */
public final class Parallel {
    private Parallel() {
    }

    /** Runs {@code call} {@code n} times at once and returns the results in order; a failure fails the check. */
    public static <R> List<R> times(int n, Callable<R> call) throws InterruptedException {
        return each(n, i -> call.call());
    }

    /** A call that knows its index among the parallel ones. */
    @FunctionalInterface
    public interface Indexed<R> {
        R call(int index) throws Exception;
    }

    /** Runs {@code call(0..n-1)} at once; returns the results in index order. */
    public static <R> List<R> each(int n, Indexed<R> call) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<R>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int index = i;
                futures.add(pool.submit(() -> {
                    start.await();
                    return call.call(index);
                }));
            }
            start.countDown();
            List<R> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                try {
                    out.add(futures.get(i).get());
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof CheckSkipped s) {
                        throw s;
                    }
                    throw new CheckFailed("parallel call " + i + ": " + SuiteRunner.describe(c), c);
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }
}
