package dev.nodekit.cni.gc;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.spec.cri.v1.ListPodSandboxRequest;
import dev.nodekit.spec.cri.v1.ListPodSandboxResponse;
import dev.nodekit.spec.cri.v1.PodSandbox;
import dev.nodekit.spec.cri.v1.RuntimeServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;

/**
 * Lists pod sandboxes with CRI {@code ListPodSandbox} (no filter: ready and not-ready ones) on a
 * {@code unix://} endpoint, one channel per listing.
 */
public final class CriSandboxLister implements SandboxLister {
    private final String endpoint;
    private final Duration timeout;

    /** A lister for {@code endpoint} (e.g. {@code unix:///run/containerd/containerd.sock}), each call bounded by {@code timeout}. */
    public CriSandboxLister(String endpoint, Duration timeout) {
        UdsChannels.socketPath(endpoint);
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive");
        }
        this.endpoint = endpoint;
        this.timeout = timeout;
    }

    @Override
    public Set<String> sandboxIds() throws ReconcileException {
        ManagedChannel ch = UdsChannels.forTarget(endpoint);
        try {
            ListPodSandboxResponse r = RuntimeServiceGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .listPodSandbox(ListPodSandboxRequest.getDefaultInstance());
            Set<String> ids = new HashSet<>();
            for (PodSandbox p : r.getItemsList()) {
                ids.add(p.getId());
            }
            return ids;
        } catch (StatusRuntimeException e) {
            throw new ReconcileException("CRI ListPodSandbox on " + endpoint + " failed: " + e.getStatus(), e);
        } finally {
            ch.shutdownNow();
            try {
                ch.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "CRI " + endpoint;
    }
}
