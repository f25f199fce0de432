package dev.nodekit.csi;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.grpc.Status;

/**
 * Per-id operation locks, as ceph-csi's idlocker: {@link #tryAcquire} never waits. A second
 * operation on a name or id that is busy fails at once with ABORTED, which the sidecars retry with
 * backoff; operations on different keys never wait for each other (one concurrent set, no global
 * lock). Waiting instead would pile retried calls of a slow CreateVolume onto threads and, when
 * the first finishes, run them all again; failing fast keeps one in flight per volume.
 *
 * <p>Keys carry their kind ({@code name:pvc-1}, {@code id:v1-local-...}) so a request name can
 * never collide with an id.
 */
final class OperationLocks {
    private final Set<String> busy = ConcurrentHashMap.newKeySet();

    /**
     * Takes the lock on every key or none.
     *
     * @param what what the keys are, for the message ({@code "volume"}, {@code "snapshot name"})
     * @throws io.grpc.StatusRuntimeException ABORTED naming the busy key
     */
    Held tryAcquire(String what, String... keys) {
        List<String> taken = new ArrayList<>(keys.length);
        for (String k : keys) {
            if (!busy.add(k)) {
                for (String t : taken) {
                    busy.remove(t);
                }
                String shown = k.substring(k.indexOf(':') + 1);
                throw Requests.status(Status.ABORTED, "an operation on " + what + " '" + Requests.shorten(shown)
                        + "' is already in progress; retry later");
            }
            taken.add(k);
        }
        return new Held(List.copyOf(taken));
    }

    /** Number of keys held now (metrics, tests). */
    int held() {
        return busy.size();
    }

    /** Keys taken together; closing releases them. */
    final class Held implements AutoCloseable {
        private final List<String> keys;
        private boolean closed;

        private Held(List<String> keys) {
            this.keys = keys;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                for (String k : keys) {
                    busy.remove(k);
                }
            }
        }
    }

    static String nameKey(String name) {
        return "name:" + name;
    }

    static String idKey(String id) {
        return "id:" + id;
    }
}
