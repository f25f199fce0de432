package dev.nodekit.csi.rbd;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.csi.rbd.ceph.CephCredentials;
import dev.nodekit.csi.rbd.ceph.CephException;
import dev.nodekit.csi.rbd.ceph.RadosCluster;
import dev.nodekit.csi.rbd.ceph.RadosConfig;
import dev.nodekit.csi.rbd.ceph.RadosPool;
import dev.nodekit.csi.spi.StorageException;

/**
 * Ceph connections pooled by cluster and user (the key's hash tells two keys of one user apart, so
 * a rotated key gets its own connection). A request leases a session and returns it; a session
 * nobody leased for {@code sessionIdleTimeout} is closed by {@link #closeIdle()}. A connect that
 * fails is not cached: the next request tries again (a wrong key is refused at once by the
 * monitors; an unreachable cluster costs the connect timeout each time).
 */
final class Sessions implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Sessions.class);

    /** Opens a connection; the real one is {@link RadosCluster#connect}. */
    @FunctionalInterface
    interface Connector {
        RadosCluster connect(RadosConfig config) throws CephException;
    }

    /** Which connection: cluster, user and the key's fingerprint (never the key). */
    private record Key(String clusterId, String userId, String keyHash) {
    }

    /** Stack for librados' connect: 8 MiB, the size of a native thread's default stack. */
    static final long LARGE_STACK_BYTES = 8L << 20;

    private final RbdConfig config;
    private final Clock clock;
    private final Connector connector;
    private final Map<Key, Session> sessions = new ConcurrentHashMap<>();
    private final Map<Key, Object> connectLocks = new ConcurrentHashMap<>();
    private volatile boolean closed;

    Sessions(RbdConfig config, Clock clock, Connector connector) {
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.connector = Objects.requireNonNull(connector, "connector");
    }

    /**
     * A session of {@code cluster} as {@code creds}, connecting when needed. Close the lease when
     * done with every pool and image handle taken from it.
     */
    Lease lease(RbdConfig.Cluster cluster, CephCredentials creds) throws StorageException {
        if (closed) {
            throw new StorageException.Unavailable("the RBD backend is closing", null);
        }
        Key key = new Key(cluster.clusterID(), creds.userId(), fingerprint(creds.key()));
        Session s = sessions.get(key);
        if (s == null || !s.acquire()) {
            synchronized (connectLocks.computeIfAbsent(key, k -> new Object())) {
                s = sessions.get(key);
                if (s == null || !s.acquire()) {
                    s = connect(cluster, creds, key);
                    s.acquire();
                    sessions.put(key, s);
                }
            }
        }
        return new Lease(s);
    }

    private Session connect(RbdConfig.Cluster cluster, CephCredentials creds, Key key) throws StorageException {
        RadosConfig rc = new RadosConfig(cluster.monitors(), creds, cluster.connectTimeout(),
                cluster.operationTimeout(), cluster.operationTimeout());
        long start = System.nanoTime();
        try {
            RadosCluster rados = onLargeStack(() -> connector.connect(rc));
            log.atInfo().addKeyValue("cluster_id", cluster.clusterID()).addKeyValue("user", creds.userId())
                    .addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000).log("connected to Ceph");
            return new Session(cluster, rados, key, clock);
        } catch (CephException e) {
            throw Errors.map(e, "connecting to Ceph cluster '" + cluster.clusterID() + "' as user '" + creds.userId() + "'");
        }
    }

    /**
     * Runs a connect on a thread with a large stack: librados' connect (cephx handshake, monitor
     * session setup) needs more than the 512 KiB that nodekit's launcher gives Java threads
     * ({@code -Xss512k}) and overflowing it kills the process without a trace. The thread is
     * joined; a connect is bounded by the connect timeout.
     */
    private static RadosCluster onLargeStack(Connect call) throws CephException {
        RadosCluster[] result = new RadosCluster[1];
        CephException[] failure = new CephException[1];
        RuntimeException[] bug = new RuntimeException[1];
        Thread t = new Thread(null, () -> {
            try {
                result[0] = call.connect();
            } catch (CephException e) {
                failure[0] = e;
            } catch (RuntimeException e) {
                bug[0] = e;
            }
        }, "rados-connect", LARGE_STACK_BYTES);
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            try {
                t.join();
            } catch (InterruptedException again) {
                Thread.currentThread().interrupt();
            }
        }
        if (failure[0] != null) {
            throw failure[0];
        }
        if (bug[0] != null) {
            throw bug[0];
        }
        return result[0];
    }

    /** A connect attempt. */
    @FunctionalInterface
    private interface Connect {
        RadosCluster connect() throws CephException;
    }

    /** Drops {@code s} (after a blocklist): closed when its last lease ends, never handed out again. */
    void discard(Session s) {
        if (sessions.remove(s.key, s)) {
            log.atWarn().addKeyValue("cluster_id", s.cluster.clusterID()).addKeyValue("user", s.key.userId())
                    .log("discarding a Ceph connection the cluster no longer serves (blocklisted); the next call reconnects");
            s.retire();
        }
    }

    /** Closes sessions nobody used for the idle timeout; returns how many. */
    int closeIdle() {
        Instant limit = clock.instant().minus(config.sessionIdleTimeout());
        int n = 0;
        for (Session s : List.copyOf(sessions.values())) {
            if (s.idleSince(limit) && sessions.remove(s.key, s)) {
                s.retire();
                n++;
                log.atDebug().addKeyValue("cluster_id", s.cluster.clusterID()).addKeyValue("user", s.key.userId())
                        .log("closed an idle Ceph connection");
            }
        }
        return n;
    }

    /** Open sessions, for tests and metrics. */
    int size() {
        return sessions.size();
    }

    @Override
    public void close() {
        closed = true;
        for (Session s : new ArrayList<>(sessions.values())) {
            sessions.remove(s.key, s);
            s.retire();
        }
    }

    private static String fingerprint(String key) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing", e);
        }
    }

    /** A lease on a session; closing it returns the session to the pool. */
    static final class Lease implements AutoCloseable {
        private final Session session;
        private boolean released;

        Lease(Session session) {
            this.session = session;
        }

        Session session() {
            return session;
        }

        @Override
        public void close() {
            if (!released) {
                released = true;
                session.release();
            }
        }
    }

    /** One connection of one user to one cluster, with its pools opened on demand. */
    static final class Session {
        private final RbdConfig.Cluster cluster;
        private final RadosCluster rados;
        private final Key key;
        private final Clock clock;
        private final Map<String, RadosPool> poolsByName = new ConcurrentHashMap<>();
        private final Map<Long, RadosPool> poolsById = new ConcurrentHashMap<>();
        private int leases;
        private boolean retired;
        private Instant lastUsed;

        Session(RbdConfig.Cluster cluster, RadosCluster rados, Key key, Clock clock) {
            this.cluster = cluster;
            this.rados = rados;
            this.key = key;
            this.clock = clock;
            this.lastUsed = clock.instant();
        }

        RbdConfig.Cluster cluster() {
            return cluster;
        }

        RadosCluster rados() {
            return rados;
        }

        /** The pool named {@code name} (cached; pools are thread-safe). */
        RadosPool pool(String name) throws CephException {
            RadosPool p = poolsByName.get(name);
            if (p == null || p.isClosed()) {
                p = rados.openPool(name);
                RadosPool prev = poolsByName.putIfAbsent(name, p);
                if (prev != null && !prev.isClosed()) {
                    p.close();
                    p = prev;
                } else {
                    poolsByName.put(name, p);
                }
            }
            return p;
        }

        /** The pool with id {@code id} (cached). */
        RadosPool pool(long id) throws CephException {
            RadosPool p = poolsById.get(id);
            if (p == null || p.isClosed()) {
                p = rados.openPool(id);
                RadosPool prev = poolsById.putIfAbsent(id, p);
                if (prev != null && !prev.isClosed()) {
                    p.close();
                    p = prev;
                } else {
                    poolsById.put(id, p);
                }
            }
            return p;
        }

        synchronized boolean acquire() {
            if (retired) {
                return false;
            }
            leases++;
            lastUsed = clock.instant();
            return true;
        }

        synchronized void release() {
            leases--;
            lastUsed = clock.instant();
            if (retired && leases == 0) {
                rados.close();
            }
        }

        synchronized boolean idleSince(Instant limit) {
            return leases == 0 && lastUsed.isBefore(limit);
        }

        /** No new leases; closed now or when the last lease ends. */
        synchronized void retire() {
            retired = true;
            if (leases == 0) {
                rados.close();
            }
        }

        @Override
        public String toString() {
            return "Session[" + cluster.clusterID() + ", " + key.userId() + "]";
        }
    }
}
