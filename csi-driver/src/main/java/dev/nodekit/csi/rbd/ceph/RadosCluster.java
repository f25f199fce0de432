package dev.nodekit.csi.rbd.ceph;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * A connected librados client ({@code rados_t}) for one cluster and one user. Thread-safe: librados
 * handles may be used from any thread at once, and {@link #close()} waits for running calls before
 * freeing the handle. Every call blocks its thread in native code for at most the timeouts of
 * {@link RadosConfig} (per OSD operation / monitor command; a librbd call may issue several).
 *
 * <p>When the cluster goes away and comes back, the same handle recovers by itself: librados keeps
 * hunting for a monitor (every 3 to 6 s; the back-off is capped) and fetches the new OSD map, so a
 * new call succeeds once the cluster answers again. Only a blocklisted client
 * ({@link CephUnavailableException#blocklisted()}) needs a new connection: {@link #reconnect()}.
 *
 * <p>Pools opened here ({@link #openPool(String)}) are closed with the cluster.
 */
public final class RadosCluster implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RadosCluster.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PREFIX = Pattern.compile("\"prefix\"\\s*:\\s*\"([^\"]{1,100})\"");

    private final RadosConfig config;
    private final Librados rados;
    private final Pointer handle;
    private final HandleGuard guard;
    private final String fsid;
    private final Set<RadosPool> pools = ConcurrentHashMap.newKeySet();

    private RadosCluster(RadosConfig config, Librados rados, Pointer handle, String fsid) {
        this.config = config;
        this.rados = rados;
        this.handle = handle;
        this.fsid = fsid;
        this.guard = new HandleGuard("RADOS connection of " + config.credentials().entityName() + " to "
                + config.monitors());
    }

    /**
     * Connects and authenticates. Fails with {@link CephPermissionDeniedException} when the
     * monitors reject the user or key, and {@link CephUnavailableException} when no monitor
     * answers within {@link RadosConfig#connectTimeout()}.
     */
    public static RadosCluster connect(RadosConfig config) throws CephException {
        Librados rados = CephNative.rados();
        String entity = config.credentials().entityName();
        String what = "rados connect " + entity + " to " + config.monitors();
        PointerByReference ref = new PointerByReference();
        CephException.check(rados.rados_create2(ref, "ceph", entity, 0), "rados create " + entity);
        Pointer h = ref.getValue();
        boolean connected = false;
        long start = System.nanoTime();
        try {
            set(rados, h, "mon_host", config.monitors());
            int rc = rados.rados_conf_set(h, "key", config.credentials().key());
            if (rc < 0) {
                // The key is validated by CephCredentials, so this is librados disagreeing; never echo it.
                throw CephException.fromReturnCode(rc, "rados set key of " + entity, "librados rejected the key");
            }
            set(rados, h, "client_mount_timeout", Long.toString(RadosConfig.seconds(config.connectTimeout())));
            set(rados, h, "rados_osd_op_timeout", Long.toString(RadosConfig.seconds(config.osdOpTimeout())));
            set(rados, h, "rados_mon_op_timeout", Long.toString(RadosConfig.seconds(config.monOpTimeout())));
            // While the monitors are away librados retries every 3 s, backing off up to 10x (30 s); cap
            // the back-off at 2x so a connection is serving again within ~6 s of the monitors' return.
            set(rados, h, "mon_client_hunt_interval_max_multiple", "2");
            // A library must not write to the process's stderr or to /var/log/ceph, /var/run/ceph.
            set(rados, h, "log_to_stderr", "false");
            set(rados, h, "err_to_stderr", "false");
            set(rados, h, "log_file", "");
            set(rados, h, "admin_socket", "");
            rc = rados.rados_connect(h);
            if (rc < 0) {
                throw connectFailure(rc, what, config);
            }
            byte[] buf = new byte[64];
            int n = CephException.check(rados.rados_cluster_fsid(h, buf, buf.length), "rados cluster fsid");
            String fsid = new String(buf, 0, n, StandardCharsets.US_ASCII);
            RadosCluster cluster = new RadosCluster(config, rados, h, fsid);
            connected = true;
            log.atDebug().addKeyValue("user", entity).addKeyValue("monitors", config.monitors())
                    .addKeyValue("fsid", fsid).addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000)
                    .log("connected to Ceph");
            return cluster;
        } finally {
            if (!connected) {
                rados.rados_shutdown(h);
            }
        }
    }

    private static CephException connectFailure(int rc, String what, RadosConfig config) {
        int errno = -rc;
        String hint = switch (errno) {
            case Errno.EACCES, Errno.EPERM -> "the monitors rejected " + config.credentials().entityName()
                    + ": unknown user or wrong key";
            case Errno.ETIMEDOUT -> "no monitor answered within " + RadosConfig.seconds(config.connectTimeout())
                    + "s (cluster down or unreachable; with monitor addresses lacking a v1:/v2: prefix,"
                    + " rejected credentials also end in this timeout)";
            default -> "";
        };
        return CephException.fromReturnCode(rc, what, hint);
    }

    private static void set(Librados rados, Pointer h, String option, String value) throws CephException {
        CephException.check(rados.rados_conf_set(h, option, value), "rados conf set " + option + "=" + value);
    }

    /** A new connection with the same configuration; this one stays as it is (close it yourself). */
    public RadosCluster reconnect() throws CephException {
        return connect(config);
    }

    /** The configuration this connection was made with (its toString redacts the key). */
    public RadosConfig config() {
        return config;
    }

    /** The cluster's fsid, read once at connect. */
    public String fsid() {
        return fsid;
    }

    /** This client's global id at the monitors (the {@code client.N} watchers and locks show). */
    public long instanceId() throws CephException {
        return guard.run(() -> rados.rados_get_instance_id(handle));
    }

    /** The id of pool {@code name}; {@link CephNotFoundException} when there is no such pool. */
    public long poolId(String name) throws CephException {
        requirePoolName(name);
        return guard.run(() -> {
            long id = rados.rados_pool_lookup(handle, name);
            if (id < 0) {
                throw CephException.fromReturnCode((int) id, "rados pool lookup pool=" + name);
            }
            return id;
        });
    }

    /** Opens pool {@code name}; {@link CephNotFoundException} when it does not exist. */
    public RadosPool openPool(String name) throws CephException {
        requirePoolName(name);
        return guard.run(() -> {
            PointerByReference ref = new PointerByReference();
            CephException.check(rados.rados_ioctx_create(handle, name, ref), "rados open pool=" + name);
            Pointer ioctx = ref.getValue();
            RadosPool pool = new RadosPool(this, rados, name, ioctx, rados.rados_ioctx_get_id(ioctx));
            pools.add(pool);
            return pool;
        });
    }

    /**
     * Opens the pool with id {@code id} (ids survive pool renames, names do not);
     * {@link CephNotFoundException} when there is no such pool.
     */
    public RadosPool openPool(long id) throws CephException {
        if (id < 0) {
            throw new IllegalArgumentException("pool id " + id + " must not be negative");
        }
        return guard.run(() -> {
            PointerByReference ref = new PointerByReference();
            CephException.check(rados.rados_ioctx_create2(handle, id, ref), "rados open pool-id=" + id);
            Pointer ioctx = ref.getValue();
            String name = poolNameOf(id);
            RadosPool pool = new RadosPool(this, rados, name, ioctx, id);
            pools.add(pool);
            return pool;
        });
    }

    /** The name of the pool with id {@code id}; {@link CephNotFoundException} when there is no such pool. */
    public String poolName(long id) throws CephException {
        return guard.run(() -> poolNameOf(id));
    }

    private String poolNameOf(long id) throws CephException {
        for (int size = 256; size <= 65536; size *= 4) {
            byte[] buf = new byte[size];
            int rc = rados.rados_pool_reverse_lookup(handle, id, buf, buf.length);
            if (rc == -Errno.ERANGE) {
                continue;
            }
            CephException.check(rc, "rados pool reverse lookup pool-id=" + id);
            return RbdLayouts.cString(buf);
        }
        throw CephException.fromReturnCode(-Errno.ERANGE, "rados pool reverse lookup pool-id=" + id);
    }

    /**
     * The names of all pools in the cluster's current OSD map, in the map's order. Reading the
     * map needs no capability on the pools themselves.
     */
    public List<String> poolNames() throws CephException {
        return guard.run(() -> {
            int size = 1024;
            for (int attempt = 0; attempt < 8; attempt++) {
                byte[] buf = new byte[size];
                int needed = CephException.check(rados.rados_pool_list(handle, buf, buf.length), "rados pool list");
                if (needed > buf.length) {
                    size = needed;
                    continue;
                }
                List<String> names = new ArrayList<>();
                int start = 0;
                for (int i = 0; i < needed && i < buf.length; i++) {
                    if (buf[i] == 0) {
                        if (i == start) {
                            break;
                        }
                        names.add(new String(buf, start, i - start, StandardCharsets.UTF_8));
                        start = i + 1;
                    }
                }
                return List.copyOf(names);
            }
            throw CephException.fromReturnCode(-Errno.ERANGE, "rados pool list", "the pool list kept growing");
        });
    }

    /** Runs a monitor command given as JSON, e.g. {@code {"prefix":"df","format":"json"}}. */
    public MonCommandResult monCommand(String json) throws CephException {
        String what = "mon command " + commandName(json);
        return guard.run(() -> {
            PointerByReference outBuf = new PointerByReference();
            LongByReference outBufLen = new LongByReference();
            PointerByReference outs = new PointerByReference();
            LongByReference outsLen = new LongByReference();
            int rc = rados.rados_mon_command(handle, new String[] {json}, 1, null, 0, outBuf, outBufLen, outs,
                    outsLen);
            String output;
            String status;
            try {
                output = new String(NativeBuffers.copy(outBuf.getValue(), outBufLen.getValue()), StandardCharsets.UTF_8);
                status = new String(NativeBuffers.copy(outs.getValue(), outsLen.getValue()), StandardCharsets.UTF_8);
            } finally {
                free(outBuf.getValue());
                free(outs.getValue());
            }
            if (rc < 0) {
                throw CephException.fromReturnCode(rc, what, status.strip());
            }
            return new MonCommandResult(output, status);
        });
    }

    /** Raw capacity of the cluster (all OSDs, before replication). */
    public ClusterStats clusterStats() throws CephException {
        return guard.run(() -> {
            Memory m = new Memory(RbdLayouts.CLUSTER_STAT_SIZE);
            m.clear();
            CephException.check(rados.rados_cluster_stat(handle, m), "rados cluster stat");
            return new ClusterStats(m.getLong(0) * 1024, m.getLong(8) * 1024, m.getLong(16) * 1024, m.getLong(24));
        });
    }

    /**
     * Pool {@code pool}'s line of {@code ceph df} (monitor command {@code df}): stored bytes and the
     * bytes it can still take. Needs a running ceph-mgr for current numbers.
     */
    public PoolUsage poolUsage(String pool) throws CephException {
        requirePoolName(pool);
        MonCommandResult r = monCommand("{\"prefix\":\"df\",\"format\":\"json\"}");
        try {
            for (JsonNode p : JSON.readTree(r.output()).path("pools")) {
                if (pool.equals(p.path("name").asText())) {
                    JsonNode s = p.path("stats");
                    return new PoolUsage(pool, p.path("id").asLong(), s.path("stored").asLong(),
                            s.path("bytes_used").asLong(), s.path("max_avail").asLong(), s.path("objects").asLong());
                }
            }
        } catch (java.io.IOException e) {
            throw new CephException(0, "mon command df", "mon command df: unreadable JSON output: " + e.getMessage());
        }
        throw CephException.fromReturnCode(-Errno.ENOENT, "mon command df pool=" + pool, "no such pool in the df output");
    }

    /** True once {@link #close()} ran. */
    public boolean isClosed() {
        return guard.isClosed();
    }

    /**
     * Closes the pools opened here, then the connection. Waits for running calls to return
     * (bounded by the timeouts). Idempotent.
     */
    @Override
    public void close() {
        guard.close(() -> {
            List<RadosPool> open = new ArrayList<>(pools);
            pools.clear();
            for (RadosPool p : open) {
                p.closeWithCluster();
            }
            long start = System.nanoTime();
            rados.rados_shutdown(handle);
            log.atDebug().addKeyValue("user", config.credentials().entityName())
                    .addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000).log("closed Ceph connection");
        });
    }

    @Override
    public String toString() {
        return "RadosCluster[" + config.credentials().entityName() + "@" + config.monitors() + ", fsid=" + fsid + "]";
    }

    // ---- for RadosPool

    /** Runs {@code call} while this connection is open. */
    <T> T use(HandleGuard.Call<T> call) throws CephException {
        return guard.run(call);
    }

    /** Runs {@code release} while this connection is open; false (and nothing runs) once it is closed. */
    boolean releaseChild(RadosPool pool, Runnable release) {
        try {
            return guard.run(() -> {
                pools.remove(pool);
                release.run();
                return true;
            });
        } catch (IllegalStateException e) {
            return false;
        } catch (CephException e) {
            throw new IllegalStateException("unexpected", e);
        }
    }

    private void free(Pointer p) {
        if (p != null) {
            rados.rados_buffer_free(p);
        }
    }

    static void requirePoolName(String name) {
        if (name == null || name.isEmpty() || name.length() > 256 || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("pool name '" + name + "' must be 1 to 256 characters without NUL");
        }
    }

    private static String commandName(String json) {
        if (json == null || json.isBlank()) {
            throw new IllegalArgumentException("monitor command must be a JSON object");
        }
        Matcher m = PREFIX.matcher(json);
        return m.find() ? m.group(1) : "(no prefix)";
    }
}
