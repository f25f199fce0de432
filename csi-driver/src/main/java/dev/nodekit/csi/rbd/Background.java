package dev.nodekit.csi.rbd;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.csi.rbd.ceph.CephCredentials;
import dev.nodekit.csi.rbd.ceph.CephException;
import dev.nodekit.csi.rbd.ceph.CephNotFoundException;
import dev.nodekit.csi.rbd.ceph.RbdImages;
import dev.nodekit.csi.rbd.ceph.TrashEntry;
import dev.nodekit.csi.spi.StorageException;

/**
 * Work that must not hold up a request: flattening clones whose chain grew past the soft limit,
 * purging our images from the RBD trash once their clone children are gone, and closing idle Ceph
 * sessions. A bounded pool of {@code flattenWorkers} threads and a bounded queue; the same task
 * (same image, same pool) is queued once. The work is idempotent and not journaled: a task lost
 * with the process is redone when the next request needs it (a clone over the hard limit flattens
 * its source first; the next delete in a pool purges its trash).
 */
final class Background implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Background.class);
    private static final int QUEUE = 1000;
    private static final String[] OURS = {"csi-vol-", "csi-snap-"};
    private static final int ENOTEMPTY = 39;
    private static final int EBUSY = 16;

    private final Sessions sessions;
    private final ThreadPoolExecutor workers;
    private final ScheduledExecutorService ticker;
    private final Set<String> queued = ConcurrentHashMap.newKeySet();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger flattens = new AtomicInteger();

    Background(Sessions sessions, int threads, Duration idleCheck) {
        this.sessions = sessions;
        this.workers = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(QUEUE),
                named("rbd-background"));
        this.workers.allowCoreThreadTimeOut(true);
        this.ticker = Executors.newSingleThreadScheduledExecutor(named("rbd-session-reaper"));
        long ms = Math.max(1000, idleCheck.toMillis());
        ticker.scheduleWithFixedDelay(sessions::closeIdle, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Flattens {@code pool/image} (a clone {@code depth} deep) in the background. */
    void flatten(RbdConfig.Cluster cluster, CephCredentials creds, String pool, String image, int depth) {
        submit("flatten " + cluster.clusterID() + "/" + pool + "/" + image, () -> {
            try (Sessions.Lease lease = sessions.lease(cluster, creds)) {
                RbdImages images = lease.session().pool(pool).images();
                long start = System.nanoTime();
                images.flatten(image);
                flattens.incrementAndGet();
                log.atInfo().addKeyValue("image", pool + "/" + image).addKeyValue("depth", depth)
                        .addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000)
                        .log("flattened a clone to keep its chain short");
                purge(lease, pool);
            }
        });
    }

    /** Removes our images from {@code pool}'s trash whose snapshots no longer have clone children. */
    void purgeTrash(RbdConfig.Cluster cluster, CephCredentials creds, String pool) {
        submit("purge " + cluster.clusterID() + "/" + pool, () -> {
            try (Sessions.Lease lease = sessions.lease(cluster, creds)) {
                purge(lease, pool);
            }
        });
    }

    private void purge(Sessions.Lease lease, String pool) throws CephException {
        RbdImages images = lease.session().pool(pool).images();
        List<TrashEntry> trash = images.listTrash();
        for (TrashEntry t : trash) {
            if (t.source() != TrashEntry.Source.USER || !ours(t.name())) {
                continue;
            }
            try {
                images.removeFromTrash(t.id(), true);
                log.atInfo().addKeyValue("image", pool + "/" + t.name()).log("purged an image from the RBD trash");
            } catch (CephNotFoundException e) {
                // purged by someone else
            } catch (CephException e) {
                if (e.errno() != ENOTEMPTY && e.errno() != EBUSY) {
                    throw e;
                }
                // clones of its snapshots still exist: purged when the last one goes
            }
        }
    }

    private static boolean ours(String name) {
        for (String p : OURS) {
            if (name.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    /** A task body. */
    @FunctionalInterface
    private interface Task {
        void run() throws CephException, StorageException;
    }

    private void submit(String key, Task task) {
        if (!queued.add(key)) {
            return;
        }
        try {
            workers.execute(() -> {
                queued.remove(key);
                running.incrementAndGet();
                try {
                    task.run();
                } catch (CephNotFoundException e) {
                    log.atDebug().addKeyValue("task", key).log("background task found nothing to do");
                } catch (CephException | StorageException | RuntimeException e) {
                    log.atWarn().addKeyValue("task", key).addKeyValue("error", e.getMessage())
                            .log("background task failed; it is redone when next needed");
                } finally {
                    running.decrementAndGet();
                }
            });
        } catch (RejectedExecutionException e) {
            queued.remove(key);
            log.atWarn().addKeyValue("task", key).log("background queue full; task dropped (redone when next needed)");
        }
    }

    /** Waits until no task is queued or running (tests). */
    boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (queued.isEmpty() && running.get() == 0 && workers.getQueue().isEmpty()) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    /** Flattens done since start (tests, metrics). */
    int flattensDone() {
        return flattens.get();
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        workers.shutdown();
        try {
            if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            workers.shutdownNow();
        }
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
