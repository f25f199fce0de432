package dev.nodekit.cni.daemon;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import dev.nodekit.cni.api.CniRequest;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;

/** Admission of plugin calls in the daemon: one call per (container, interface) at a time, and a bounded number overall. */
final class CallGate {
    private final Semaphore slots;
    private final int capacity;
    private final Duration wait;
    private final ConcurrentHashMap<String, Turn> attachments = new ConcurrentHashMap<>();

    CallGate(int capacity, Duration wait) {
        this.capacity = capacity;
        this.slots = new Semaphore(capacity, true);
        this.wait = wait;
    }

    /**
     * Waits for the attachment's turn (a DEL that the runtime sends after giving up on an ADD waits
     * for that ADD to finish, instead of racing it), then for a slot; both within the admission bound.
     *
     * @throws CniException code 11 when the bound runs out
     */
    Pass enter(CniRequest r) throws CniException {
        long deadline = System.nanoTime() + wait.toNanos();
        String key = r.containerId().isPresent() ? r.containerId().get() + "/" + r.ifName().orElse("") : null;
        Turn turn = null;
        if (key != null) {
            turn = attachments.compute(key, (k, v) -> {
                Turn t = v == null ? new Turn() : v;
                t.users++;
                return t;
            });
            if (!acquire(turn.lock, deadline)) {
                leave(key, turn, false);
                throw new CniException(CniError.TRY_AGAIN_LATER, "another call for container " + key
                        + " is still running after " + wait.toMillis() + " ms");
            }
        }
        if (!acquire(slots, deadline)) {
            if (turn != null) {
                leave(key, turn, true);
            }
            throw new CniException(CniError.TRY_AGAIN_LATER, "the nodekit CNI daemon runs " + capacity
                    + " calls at once and no slot freed up in " + wait.toMillis() + " ms");
        }
        return new Pass(this, key, turn);
    }

    private static boolean acquire(Semaphore s, long deadline) throws CniException {
        try {
            return s.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CniException(CniError.TRY_AGAIN_LATER, "the nodekit CNI daemon is shutting down");
        }
    }

    private void leave(String key, Turn turn, boolean held) {
        if (held) {
            turn.lock.release();
        }
        attachments.computeIfPresent(key, (k, v) -> --v.users == 0 ? null : v);
    }

    /** Calls running now. */
    int running() {
        return capacity - slots.availablePermits();
    }

    /** Entries kept for attachments (drops to zero when idle; tests check it does). */
    int trackedAttachments() {
        return attachments.size();
    }

    /** One attachment's lock and the number of calls holding or waiting for it. */
    private static final class Turn {
        final Semaphore lock = new Semaphore(1, true);
        int users;
    }

    /** An admitted call; closing frees its slot and its attachment's turn. */
    static final class Pass implements AutoCloseable {
        private final CallGate gate;
        private final String key;
        private final Turn turn;
        private boolean closed;

        Pass(CallGate gate, String key, Turn turn) {
            this.gate = gate;
            this.key = key;
            this.turn = turn;
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            gate.slots.release();
            if (turn != null) {
                gate.leave(key, turn, true);
            }
        }
    }
}
