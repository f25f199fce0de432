package dev.nodekit.csi.rbd;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import dev.nodekit.common.exec.ProcessCommandRunner;
import dev.nodekit.csi.local.CrashOp;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.StorageBackend;
import dev.nodekit.csi.spi.StorageException;

/**
 * The child JVM of {@link RbdCrashIT}: opens the RBD backend ({@code args[0]} the --ceph-config
 * file, {@code args[1]} the data dir; the secrets come in the environment as
 * {@code RBD_USER_ID}/{@code RBD_USER_KEY}, the parameters as {@code RBD_CLUSTER_ID}/{@code RBD_POOL})
 * and then, by {@code args[2]}: {@code ops FILE} runs every op of FILE at once on 8 threads;
 * {@code recover} only opens (the node state is healed at open). Protocol on stdout: {@code OPEN},
 * {@code START <op>}, {@code DONE <seq> <result>}, {@code FAIL <seq> <message>}, {@code ALL-DONE}.
 */
public final class RbdCrashChild {
    private static final PrintStream OUT = System.out;

    private RbdCrashChild() {
    }

    /** Entry point. */
    public static void main(String[] args) throws Exception {
        Map<String, String> params = Map.of("clusterID", System.getenv("RBD_CLUSTER_ID"), "pool", System.getenv("RBD_POOL"));
        Credentials creds = Credentials.of(Map.of("userID", System.getenv("RBD_USER_ID"),
                "userKey", System.getenv("RBD_USER_KEY")));
        RbdBackend backend = RbdBackendFactory.open(Path.of(args[0]), Path.of(args[1]), new ProcessCommandRunner(),
                Clock.systemUTC());
        say("OPEN");
        if (args[2].equals("ops")) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<?>> futures = new ArrayList<>();
            for (String line : Files.readAllLines(Path.of(args[3]))) {
                CrashOp op = CrashOp.parse(line);
                futures.add(pool.submit(() -> run(backend, op, params, creds)));
            }
            for (Future<?> f : futures) {
                f.get(5, TimeUnit.MINUTES);
            }
            pool.shutdown();
        }
        backend.close();
        say("ALL-DONE");
    }

    /**
     * Runs {@code op} as a CO would until it answers: Pending (a busy object, a flatten in progress)
     * and "in use" (a watch a killed process left on the image, until the OSD times it out) are
     * retried for up to two minutes.
     */
    static String execute(CrashOp op, StorageBackend b, Map<String, String> params, Credentials creds)
            throws Exception {
        return op.execute(b, params, creds, Duration.ofMinutes(2), Duration.ofMillis(250),
                e -> e instanceof StorageException.Pending || (e instanceof StorageException.FailedPrecondition
                        && String.valueOf(e.getMessage()).contains("in use")));
    }

    private static void run(RbdBackend backend, CrashOp op, Map<String, String> params, Credentials creds) {
        say("START " + op.line());
        try {
            String result = execute(op, backend, params, creds);
            say("DONE " + op.seq() + " " + result);
        } catch (Exception e) {
            say("FAIL " + op.seq() + " " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private static void say(String line) {
        synchronized (OUT) {
            OUT.println(line);
            OUT.flush();
        }
    }
}
