package dev.nodekit.common.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Child JVM for {@link DirectoryLockTest}: "count DIR N" increments DIR/counter N times under the lock; "hold DIR" holds it until stdin closes. */
@SuppressWarnings("try") // lock resources are held, not used
public final class LockCounterChild {
    private LockCounterChild() {
    }

    /** Entry point of the child JVM. */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        if (args[0].equals("count")) {
            int n = Integer.parseInt(args[2]);
            for (int i = 0; i < n; i++) {
                try (DirectoryLock lock = DirectoryLock.acquire(dir, Duration.ofSeconds(60))) {
                    increment(dir.resolve("counter"));
                }
            }
        } else {
            try (DirectoryLock lock = DirectoryLock.acquire(dir, Duration.ofSeconds(10))) {
                System.out.println("locked");
                System.out.flush();
                while (System.in.read() != -1) {
                    // hold until the parent closes our stdin
                }
            }
        }
    }

    /** Read, add one, write back: loses updates unless the caller holds the lock. */
    static void increment(Path counter) throws IOException {
        increment(counter, Thread::yield);
    }

    /** As above, running {@code betweenReadAndWrite} after the read (tests force an interleaving with it). */
    static void increment(Path counter, Runnable betweenReadAndWrite) throws IOException {
        int v = Files.exists(counter) ? Integer.parseInt(Files.readString(counter).strip()) : 0;
        betweenReadAndWrite.run();
        Files.writeString(counter, Integer.toString(v + 1));
    }
}
