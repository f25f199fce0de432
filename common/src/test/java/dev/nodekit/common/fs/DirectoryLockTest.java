package dev.nodekit.common.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
@SuppressWarnings("try") // lock resources are held, not used
class DirectoryLockTest {
    @TempDir
    Path dir;

    @Test
    void createsTheDirectoryAndLockFileAndCanBeTakenAgainAfterClose() throws Exception {
        Path state = dir.resolve("state/ipam");
        try (DirectoryLock lock = DirectoryLock.acquire(state, Duration.ofSeconds(1))) {
            assertThat(lock.lockFile()).isEqualTo(state.toRealPath().resolve("lock"));
            assertThat(Files.readString(lock.lockFile())).isEqualTo("pid=" + ProcessHandle.current().pid() + "\n");
        }
        try (DirectoryLock again = DirectoryLock.acquire(state, Duration.ZERO)) {
            assertThat(again.lockFile()).exists();
        }
    }

    @Test
    void boundedWaitTimesOutWhileAnotherThreadHoldsIt() throws Exception {
        try (DirectoryLock held = DirectoryLock.acquire(dir, Duration.ofSeconds(1))) {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            long[] took = new long[1];
            Thread t = new Thread(() -> {
                long start = System.nanoTime();
                try (DirectoryLock second = DirectoryLock.acquire(dir, Duration.ofMillis(300))) {
                    thrown.set(new AssertionError("second lock acquired while held"));
                } catch (Exception e) {
                    thrown.set(e);
                }
                took[0] = System.nanoTime() - start;
            });
            t.start();
            t.join();
            assertThat(thrown.get()).isInstanceOfSatisfying(LockTimeoutException.class, e -> {
                assertThat(e.waited()).isEqualTo(Duration.ofMillis(300));
                assertThat(e.lockFile()).isEqualTo(held.lockFile());
                assertThat(e).hasMessageContaining("timed out after 300ms").hasMessageContaining("another thread");
            });
            assertThat(Duration.ofNanos(took[0])).isBetween(Duration.ofMillis(290), Duration.ofSeconds(3));
        }
    }

    @Test
    void boundedWaitTimesOutWhileAnotherProcessHoldsItAndNamesThatProcess() throws Exception {
        Process child = startChild("hold", dir.toString());
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            assertThat(out.readLine()).isEqualTo("locked");
            long start = System.nanoTime();
            assertThatThrownBy(() -> DirectoryLock.acquire(dir, Duration.ofMillis(400)))
                    .isInstanceOf(LockTimeoutException.class)
                    .hasMessageContaining("pid " + child.pid());
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(390), Duration.ofSeconds(3));
            assertThatThrownBy(() -> DirectoryLock.acquire(dir, Duration.ZERO)).isInstanceOf(LockTimeoutException.class);
        } finally {
            child.getOutputStream().close();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        // Released by the child's exit: ours now, at once.
        try (DirectoryLock lock = DirectoryLock.acquire(dir, Duration.ofSeconds(5))) {
            assertThat(lock.lockFile()).exists();
        }
    }

    @Test
    void threadsIncrementingUnderTheLockNeverLoseAnUpdate() throws Exception {
        int threads = 6;
        int each = 150;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> fs = new ArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            for (int t = 0; t < threads; t++) {
                fs.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < each; i++) {
                        try (DirectoryLock lock = DirectoryLock.acquire(dir, Duration.ofSeconds(30))) {
                            LockCounterChild.increment(dir.resolve("counter"));
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(Files.readString(dir.resolve("counter"))).isEqualTo(Integer.toString(threads * each));
    }

    @Test
    void processesAndThreadsIncrementingTogetherNeverLoseAnUpdate() throws Exception {
        int processes = 3;
        int threads = 2;
        int each = 100;
        List<Process> children = new ArrayList<>();
        for (int p = 0; p < processes; p++) {
            children.add(startChild("count", dir.toString(), Integer.toString(each)));
        }
        List<Thread> ts = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                try {
                    for (int i = 0; i < each; i++) {
                        try (DirectoryLock lock = DirectoryLock.acquire(dir, Duration.ofSeconds(60))) {
                            LockCounterChild.increment(dir.resolve("counter"));
                        }
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            th.start();
            ts.add(th);
        }
        for (Thread th : ts) {
            th.join();
        }
        for (Process c : children) {
            assertThat(c.waitFor(90, TimeUnit.SECONDS)).isTrue();
            assertThat(c.exitValue()).as(new String(c.getErrorStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
        }
        assertThat(failure.get()).isNull();
        assertThat(Files.readString(dir.resolve("counter"))).isEqualTo(Integer.toString((processes + threads) * each));
    }

    @Test
    void withoutTheLockUpdatesAreLost() throws Exception {
        // Shows the counter test can fail: two increments whose reads both come before either
        // write (forced by a barrier, so the outcome does not depend on scheduling) leave 1, not 2.
        Path counter = dir.resolve("counter");
        CyclicBarrier bothRead = new CyclicBarrier(2);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            Thread th = new Thread(() -> {
                try {
                    LockCounterChild.increment(counter, () -> {
                        try {
                            bothRead.await(10, TimeUnit.SECONDS);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    });
                } catch (Exception | Error e) {
                    failure.set(e);
                }
            });
            th.start();
            ts.add(th);
        }
        for (Thread th : ts) {
            th.join();
        }
        assertThat(failure.get()).isNull();
        assertThat(Files.readString(counter).strip()).isEqualTo("1");
    }

    @Test
    void closeIsIdempotentAndMayHappenOnAnotherThread() throws Exception {
        DirectoryLock lock = DirectoryLock.acquire(dir, Duration.ofSeconds(1));
        Thread t = new Thread(() -> {
            try {
                lock.close();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        t.start();
        t.join();
        lock.close();
        try (DirectoryLock again = DirectoryLock.acquire(dir, Duration.ZERO)) {
            assertThat(again).isNotNull();
        }
    }

    @Test
    void interruptWhileWaitingIsAnInterruptedIoExceptionWithTheFlagKept() throws Exception {
        try (DirectoryLock held = DirectoryLock.acquire(dir, Duration.ofSeconds(1))) {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            AtomicReference<Boolean> flag = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try (DirectoryLock second = DirectoryLock.acquire(dir, Duration.ofSeconds(30))) {
                    thrown.set(new AssertionError("acquired"));
                } catch (Exception e) {
                    thrown.set(e);
                    flag.set(Thread.currentThread().isInterrupted());
                }
            });
            t.start();
            Thread.sleep(100);
            t.interrupt();
            t.join(5000);
            assertThat(thrown.get()).isInstanceOf(InterruptedIOException.class);
            assertThat(flag.get()).isTrue();
        }
    }

    @Test
    void symlinkedPathsShareOneLock() throws Exception {
        Path real = Files.createDirectories(dir.resolve("real"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        try (DirectoryLock held = DirectoryLock.acquire(real, Duration.ofSeconds(1))) {
            assertThatThrownBy(() -> DirectoryLock.acquire(link, Duration.ofMillis(100)))
                    .isInstanceOf(LockTimeoutException.class);
        }
    }

    @Test
    void rejectsNegativeTimeout() {
        assertThatThrownBy(() -> DirectoryLock.acquire(dir, Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
    }

    private static Process startChild(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                LockCounterChild.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).start();
    }
}
