package dev.nodekit.crishim;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.spec.cri.v1.Container;
import dev.nodekit.spec.cri.v1.ListContainersRequest;
import dev.nodekit.spec.cri.v1.ListPodSandboxRequest;
import dev.nodekit.spec.cri.v1.PodSandbox;
import dev.nodekit.spec.cri.v1.RuntimeServiceGrpc;
import io.grpc.StatusRuntimeException;

/**
 * Which upstream holds which pod sandbox and container. Filled from RunPodSandbox and
 * CreateContainer answers, emptied by successful removals, and rebuilt from
 * ListPodSandbox/ListContainers of every upstream: when an upstream connects (so after a shim
 * restart the map is whole again as soon as the runtimes answer) and when a call names an id the
 * map does not know. Nothing is persisted: the runtimes are the source of truth.
 *
 * <p>Refreshes only add entries. An id whose pod was removed behind the shim's back stays mapped
 * to the runtime that had it, which answers NotFound for it, as it should.
 */
final class IdMap implements AutoCloseable {
    /** A miss does not start a new refresh sooner than this after the last one (unknown ids cannot cause a storm). */
    static final long MIN_REFRESH_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(1000);
    static final long LIST_DEADLINE_SECONDS = 10;
    private static final Logger log = LoggerFactory.getLogger(IdMap.class);

    private final Upstreams upstreams;
    private final ConcurrentHashMap<String, Upstream> pods = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Upstream> containers = new ConcurrentHashMap<>();
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "nodekit-cri-idmap");
        t.setDaemon(true);
        return t;
    });
    private final Object lock = new Object();
    private CompletableFuture<Refresh> inflight;
    private Refresh last;
    private long lastDoneNanos;

    IdMap(Upstreams upstreams) {
        this.upstreams = upstreams;
    }

    /**
     * The outcome of listing every upstream.
     *
     * @param failed upstreams that could not be listed
     */
    record Refresh(Set<String> failed) {
        Refresh {
            failed = Set.copyOf(failed);
        }

        boolean complete() {
            return failed.isEmpty();
        }
    }

    Optional<Upstream> pod(String id) {
        return Optional.ofNullable(pods.get(id));
    }

    Optional<Upstream> container(String id) {
        return Optional.ofNullable(containers.get(id));
    }

    void putPod(String id, Upstream u) {
        pods.put(id, u);
    }

    void putContainer(String id, Upstream u) {
        containers.put(id, u);
    }

    void removePod(String id) {
        pods.remove(id);
    }

    void removeContainer(String id) {
        containers.remove(id);
    }

    int size() {
        return pods.size() + containers.size();
    }

    /** Lists one upstream in the background (it just connected). */
    void refreshLater(Upstream u) {
        worker.execute(() -> list(u));
    }

    /**
     * Lists every upstream, unless a refresh is running (its result is shared) or one ended less
     * than {@link #MIN_REFRESH_INTERVAL_NANOS} ago (its result is returned).
     */
    CompletableFuture<Refresh> refresh() {
        synchronized (lock) {
            if (inflight != null) {
                return inflight;
            }
            if (last != null && System.nanoTime() - lastDoneNanos < MIN_REFRESH_INTERVAL_NANOS) {
                return CompletableFuture.completedFuture(last);
            }
            CompletableFuture<Refresh> f = new CompletableFuture<>();
            inflight = f;
            try {
                worker.execute(() -> {
                    Set<String> failed = new TreeSet<>();
                    for (Upstream u : upstreams.all()) {
                        if (!list(u)) {
                            failed.add(u.name());
                        }
                    }
                    Refresh r = new Refresh(failed);
                    synchronized (lock) {
                        inflight = null;
                        last = r;
                        lastDoneNanos = System.nanoTime();
                    }
                    f.complete(r);
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                inflight = null;
                f.complete(new Refresh(Set.copyOf(upstreams.all().stream().map(Upstream::name).toList())));
            }
            return f;
        }
    }

    /** Lists the pods and containers of {@code u} into the map; false if the runtime did not answer. */
    private boolean list(Upstream u) {
        long t0 = System.nanoTime();
        try {
            var stub = RuntimeServiceGrpc.newBlockingStub(u.channel());
            List<PodSandbox> ps = stub.withDeadlineAfter(LIST_DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList();
            List<Container> cs = stub.withDeadlineAfter(LIST_DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .listContainers(ListContainersRequest.getDefaultInstance()).getContainersList();
            int added = add(pods, ps.stream().map(PodSandbox::getId).toList(), u)
                    + add(containers, cs.stream().map(Container::getId).toList(), u);
            log.atDebug().addKeyValue("upstream", u.name()).addKeyValue("pods", ps.size())
                    .addKeyValue("containers", cs.size()).addKeyValue("new_ids", added)
                    .addKeyValue("duration_ms", (System.nanoTime() - t0) / 1_000_000).log("id map refreshed");
            return true;
        } catch (StatusRuntimeException e) {
            log.atInfo().addKeyValue("upstream", u.name()).addKeyValue("status", e.getStatus().getCode())
                    .log("cannot list the runtime's pods and containers for the id map; will retry when it is back");
            return false;
        }
    }

    private static int add(ConcurrentHashMap<String, Upstream> map, Collection<String> ids, Upstream u) {
        int added = 0;
        for (String id : ids) {
            Upstream before = map.put(id, u);
            if (before == null) {
                added++;
            } else if (before != u) {
                log.atWarn().addKeyValue("id", id).addKeyValue("was", before.name()).addKeyValue("now", u.name())
                        .log("two runtimes report the same id; the last one listed wins");
            }
        }
        return added;
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
