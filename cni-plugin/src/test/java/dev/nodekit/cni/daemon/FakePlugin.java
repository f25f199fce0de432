package dev.nodekit.cni.daemon;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.nodekit.cni.api.CniPlugin;
import dev.nodekit.cni.api.CniRequest;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.CniVersion;
import dev.nodekit.spec.cni.IpConfig;
import dev.nodekit.spec.cni.Result;

/** A plugin that records calls, can hold an ADD of a given container until released, and counts how many run at once. */
final class FakePlugin implements CniPlugin {
    final List<String> calls = new CopyOnWriteArrayList<>();
    final Map<String, CountDownLatch> holds = new ConcurrentHashMap<>();
    final Map<String, CountDownLatch> entered = new ConcurrentHashMap<>();
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger maxRunning = new AtomicInteger();

    /** ADDs of {@code containerId} wait until {@link #release} (at most 30 s). */
    void hold(String containerId) {
        holds.put(containerId, new CountDownLatch(1));
        entered.put(containerId, new CountDownLatch(1));
    }

    void release(String containerId) {
        holds.get(containerId).countDown();
    }

    boolean awaitEntered(String containerId) throws InterruptedException {
        return entered.get(containerId).await(30, TimeUnit.SECONDS);
    }

    @Override
    public Result add(CniRequest request) throws CniException {
        String id = request.requiredContainerId();
        int now = running.incrementAndGet();
        maxRunning.accumulateAndGet(now, Math::max);
        try {
            calls.add("ADD " + id);
            CountDownLatch e = entered.get(id);
            if (e != null) {
                e.countDown();
            }
            CountDownLatch h = holds.get(id);
            if (h != null) {
                try {
                    h.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new CniException(CniError.TRY_AGAIN_LATER, "interrupted");
                }
            }
            calls.add("ADD done " + id);
            return Result.of(CniVersion.LATEST, List.of(), List.of(IpConfig.of("10.9.0.5/24", "10.9.0.1")), List.of(),
                    Optional.empty());
        } finally {
            running.decrementAndGet();
        }
    }

    @Override
    public void del(CniRequest request) throws CniException {
        calls.add("DEL " + request.requiredContainerId());
    }

    @Override
    public void check(CniRequest request) throws CniException {
        calls.add("CHECK " + request.requiredContainerId());
    }

    @Override
    public String about() {
        return "fake plugin for the daemon tests";
    }
}
