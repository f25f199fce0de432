package dev.nodekit.csi.local;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The child JVM of {@link LocalBackendCrashIT}. Opens the backend on {@code args[0]} (node id
 * {@code args[1]}, synced writes {@code args[2]}) and then, by {@code args[3]}:
 * <ul>
 *   <li>{@code ops FILE}: runs every op of FILE (one {@link CrashOp#line()} per line) at once on 8
 *       threads;</li>
 *   <li>{@code recover}: nothing (opening is the recovery);</li>
 *   <li>{@code random THREADS}: each thread loops create, snapshot, restore, delete... until killed.</li>
 * </ul>
 * Protocol on stdout, one flushed line each: {@code OPEN} once open, {@code START <op>} before a
 * request, {@code DONE <seq> <result>} or {@code FAIL <seq> <message>} after it, {@code ALL-DONE} at
 * the end. A failpoint or a kill stops it anywhere.
 */
public final class LocalCrashChild {
    private static final PrintStream OUT = System.out;
    private static final long MIB = 1 << 20;

    private LocalCrashChild() {
    }

    /** Entry point. */
    public static void main(String[] args) throws Exception {
        LocalBackend backend = LocalBackendFactory.open(LocalBackendConfig.of(Path.of(args[0]), args[1])
                .withSyncWrites(Boolean.parseBoolean(args[2])));
        say("OPEN");
        switch (args[3]) {
            case "ops" -> runOps(backend, Files.readAllLines(Path.of(args[4])));
            case "recover" -> { }
            case "random" -> runRandom(backend, Integer.parseInt(args[4]));
            default -> throw new IllegalArgumentException(args[3]);
        }
        backend.close();
        say("ALL-DONE");
    }

    private static void runOps(LocalBackend backend, List<String> lines) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> futures = new ArrayList<>();
        for (String line : lines) {
            CrashOp op = CrashOp.parse(line);
            futures.add(pool.submit(() -> run(backend, op)));
        }
        for (Future<?> f : futures) {
            f.get(5, TimeUnit.MINUTES);
        }
        pool.shutdown();
    }

    private static void runRandom(LocalBackend backend, int threads) throws Exception {
        AtomicInteger seq = new AtomicInteger();
        String run = Long.toString(System.nanoTime(), 36);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            futures.add(pool.submit(() -> {
                for (int j = 0; ; j++) {
                    String p = "r" + run + "-" + thread + "-" + j;
                    String a = run(backend, CrashOp.of(seq.incrementAndGet(), thread, "create", p + "-a",
                            Long.toString(4 * MIB)));
                    String s = run(backend, CrashOp.of(seq.incrementAndGet(), thread, "snapshot", p + "-s", a));
                    String r = run(backend, CrashOp.of(seq.incrementAndGet(), thread, "restore", p + "-r",
                            Long.toString(8 * MIB), s));
                    run(backend, CrashOp.of(seq.incrementAndGet(), thread, "resize", r, Long.toString(12 * MIB)));
                    run(backend, CrashOp.of(seq.incrementAndGet(), thread, "delete", a));
                    run(backend, CrashOp.of(seq.incrementAndGet(), thread, "delete-snapshot", s));
                    if (j % 2 == 0) {
                        run(backend, CrashOp.of(seq.incrementAndGet(), thread, "delete", r));
                    }
                }
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
    }

    private static String run(LocalBackend backend, CrashOp op) {
        say("START " + op.line());
        try {
            String result = op.execute(backend);
            say("DONE " + op.seq() + " " + result);
            return result;
        } catch (Exception e) {
            say("FAIL " + op.seq() + " " + e.getClass().getSimpleName() + ": " + e.getMessage());
            throw new IllegalStateException(e);
        }
    }

    private static void say(String line) {
        synchronized (OUT) {
            OUT.println(line);
            OUT.flush();
        }
    }
}
