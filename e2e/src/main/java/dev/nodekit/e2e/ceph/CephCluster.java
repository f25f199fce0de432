package dev.nodekit.e2e.ceph;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A throw-away single-node Ceph 16.2 cluster for integration tests and benchmarks, booted from the Debian
 * packages on 127.0.0.1 in a temp dir: one monitor, one manager (minimal modules, rbd_support
 * included), one OSD (memstore by default, bluestore on a sparse file for data-heavy tests), cephx
 * on, a test pool initialised for RBD and a restricted client user for the driver
 * ({@code mon 'profile rbd' osd 'profile rbd pool=P' mgr 'profile rbd pool=P'}).
 *
 * <p>Fast boot: all keys, with their caps, are generated in-process and pre-seeded into the
 * monitor's mkfs keyring, so no {@code ceph auth} call runs; the OSD's mkfs runs while the monitor
 * is formatted and the OSD starts before it is registered; no {@code ceph} CLI runs (each costs
 * 0.5-2.5 s of python startup): one small python program on the librados bindings registers the
 * OSD ({@code osd new}), waits for it, creates the pool and initialises it for RBD, which needs the
 * placement groups active, so its end is the readiness point. {@code paxos_propose_interval = 0.1}
 * makes map changes ~10x faster than the default.
 *
 * <p>Processes: each daemon runs under {@code setsid} in its own session, its PID is recorded in
 * {@code DIR/pids}, and it is stopped by that PID only (SIGTERM, then SIGKILL), in reverse start
 * order. {@link #stop()} keeps the data ({@code osd_fast_shutdown = false} lets the memstore OSD
 * save itself) and {@link #start()} brings the same cluster back on the same monitor ports, for
 * outage tests. {@link #close()} stops everything and deletes the directory.
 *
 * <p>A JVM that dies without its exit hook (native crash, SIGKILL) leaves its cluster running; the
 * next fixture JVM stops such orphans by their recorded PIDs and deletes their dirs (see
 * {@code Orphans}: each dir names its owner JVM).
 *
 * <p>{@link #shared()} is the one cluster of this JVM (Failsafe runs all ITs in one JVM), stopped at
 * JVM exit; {@link #start(Options)} boots a private one (several can run side by side: monitor
 * ports are picked free per instance, the OSD and manager take free ports in 6800-7300).
 */
public final class CephCluster implements AutoCloseable {
    /** The OSD's object store. */
    public enum ObjectStore {
        /** Data in the OSD's RAM (about 2x what is written, never given back): fastest, for metadata tests. */
        MEMSTORE,
        /** BlueStore on a sparse file in the cluster dir: for tests that write real data. */
        BLUESTORE
    }

    /**
     * How to build a cluster.
     *
     * @param store      the OSD object store
     * @param storeBytes memstore capacity or bluestore file size
     * @param pool       the RBD test pool's name
     * @param clientId   the restricted user, without {@code client.}
     * @param pgNum      placement groups of the test pool
     */
    public record Options(ObjectStore store, long storeBytes, String pool, String clientId, int pgNum) {
        private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,40}");

        /** Validates the fields. */
        public Options {
            Objects.requireNonNull(store, "store");
            if (storeBytes < (1L << 30)) {
                throw new IllegalArgumentException("storeBytes " + storeBytes + " must be at least 1 GiB");
            }
            if (!NAME.matcher(pool).matches() || !NAME.matcher(clientId).matches()) {
                throw new IllegalArgumentException("pool '" + pool + "' and clientId '" + clientId + "' must match " + NAME);
            }
            if (pgNum < 1 || pgNum > 128) {
                throw new IllegalArgumentException("pgNum " + pgNum + " must be 1..128");
            }
        }

        /** memstore of 4 GiB, pool {@code nodekit-rbd}, user {@code csi}, 8 PGs. */
        public static Options defaults() {
            return new Options(ObjectStore.MEMSTORE, 4L << 30, "nodekit-rbd", "csi", 8);
        }

        /** A copy with object store {@code s}. */
        public Options withStore(ObjectStore s) {
            return new Options(s, storeBytes, pool, clientId, pgNum);
        }

        /** A copy with {@code bytes} of OSD capacity. */
        public Options withStoreBytes(long bytes) {
            return new Options(store, bytes, pool, clientId, pgNum);
        }

        /** A copy whose test pool is {@code p}. */
        public Options withPool(String p) {
            return new Options(store, storeBytes, p, clientId, pgNum);
        }
    }

    private static final Duration CLI_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration GRACEFUL_OSD_STOP = Duration.ofSeconds(20);
    private static final Duration GRACEFUL_STOP = Duration.ofSeconds(10);
    private static final Duration TEARDOWN_GRACE = Duration.ofSeconds(3);
    private static final List<String> MGR_MODULES = List.of("mgr_module.py", "mgr_util.py", "balancer", "crash",
            "devicehealth", "orchestrator", "pg_autoscaler", "progress", "rbd_support", "status", "telemetry",
            "volumes", "iostat");
    private static final Path MGR_MODULE_SRC = Path.of("/usr/share/ceph/mgr");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The distribution's python: the one the rados/rbd bindings are installed for (not a pyenv shim). */
    private static final String PYTHON = "/usr/bin/python3";
    /**
     * Registers osd.0 (already running), waits until it is up, creates and initialises the test pool.
     * Prints "N ms milestone" lines. Arguments: conf, OSD uuid, pool, pg_num.
     */
    private static final String BOOTSTRAP_PY = String.join("\n",
            "import json, sys, time",
            "import rados, rbd",
            "conf, osd_uuid, pool, pg = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])",
            "t0 = time.monotonic()",
            "def mark(what):",
            "    print('%d ms %s' % ((time.monotonic() - t0) * 1000, what), flush=True)",
            "def mon(prefix, **args):",
            "    args['prefix'] = prefix",
            "    for attempt in range(100):",
            "        rc, out, err = r.mon_command(json.dumps(args), b'', timeout=60)",
            "        if rc != -11:  # EAGAIN: e.g. 'osd new' while the early-started OSD's boot is pending",
            "            break",
            "        time.sleep(0.05)",
            "    if rc != 0:",
            "        sys.exit('%s failed: %d %s' % (prefix, rc, err))",
            "    return out",
            "r = rados.Rados(conffile=conf)",
            "r.connect(timeout=60)",
            "mark('bootstrap connected')",
            "mon('osd new', uuid=osd_uuid, id=0)",
            "mark('osd new done')",
            "deadline = time.monotonic() + 120",
            "while not any(o['osd'] == 0 and o['up'] == 1 for o in json.loads(mon('osd dump', format='json'))['osds']):",
            "    if time.monotonic() > deadline:",
            "        sys.exit('osd.0 not up within 120 s')",
            "    time.sleep(0.05)",
            "mark('osd up')",
            "mon('osd pool create', pool=pool, pg_num=pg, pgp_num=pg)",
            "mark('pool created')",
            "with r.open_ioctx(pool) as io:",
            "    rbd.RBD().pool_init(io, False)",
            "mark('pool initialised')",
            "r.shutdown()",
            "");

    private static final Object SHARED_LOCK = new Object();
    private static CephCluster shared;
    private static IOException sharedFailure;

    private final Options options;
    private final Path dir;
    private final String fsid;
    private final int monV2Port;
    private final int monV1Port;
    private final String clientKey;
    private final List<Daemon> daemons = new CopyOnWriteArrayList<>();
    private final Thread shutdownHook;
    private Duration lastStartDuration = Duration.ZERO;
    private final List<String> timeline = new CopyOnWriteArrayList<>();
    private volatile long timelineStart;
    private boolean closed;

    private CephCluster(Options options, Path dir, String fsid, int[] ports, String clientKey) {
        this.options = options;
        this.dir = dir;
        this.fsid = fsid;
        this.monV2Port = ports[0];
        this.monV1Port = ports[1];
        this.clientKey = clientKey;
        this.shutdownHook = new Thread(this::closeQuietly, "ceph-fixture-teardown-" + dir.getFileName());
    }

    /**
     * The cluster of this JVM, booted on first call with {@link Options#defaults()} and torn down at
     * JVM exit. A failed boot is remembered and rethrown to every later caller.
     */
    public static CephCluster shared() throws IOException {
        synchronized (SHARED_LOCK) {
            if (shared != null) {
                return shared;
            }
            if (sharedFailure != null) {
                throw new IOException("the shared Ceph cluster failed to boot earlier in this JVM", sharedFailure);
            }
            try {
                shared = start(Options.defaults());
                return shared;
            } catch (IOException e) {
                sharedFailure = e;
                throw e;
            }
        }
    }

    /** Boots a private cluster; close it when done (a JVM exit hook closes it otherwise). */
    public static CephCluster start(Options options) throws IOException {
        Objects.requireNonNull(options, "options");
        IOException last = null;
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Orphans.reapOnce(tmp);
        for (int attempt = 1; attempt <= 3; attempt++) {
            Path dir = Files.createTempDirectory(tmp, Orphans.PREFIX);
            Orphans.claim(dir);
            CephCluster c = new CephCluster(options, dir, UUID.randomUUID().toString(), Ports.freePair(),
                    CephKeys.generate());
            Runtime.getRuntime().addShutdownHook(c.shutdownHook);
            try {
                c.boot();
                return c;
            } catch (IOException e) {
                boolean portTaken = c.monLostItsPort();
                c.close();
                if (!portTaken) {
                    throw e;
                }
                last = e;
            }
        }
        throw last;
    }

    // ---- what tests use

    /** Monitor addresses in mon_host syntax with protocol prefixes: {@code [v2:127.0.0.1:P,v1:127.0.0.1:Q]}. */
    public String monitors() {
        return "[v2:127.0.0.1:" + monV2Port + ",v1:127.0.0.1:" + monV1Port + "]";
    }

    /** The monitor's msgr2 port. */
    public int monV2Port() {
        return monV2Port;
    }

    /** The monitor's legacy (v1) port. */
    public int monV1Port() {
        return monV1Port;
    }

    /** The cluster fsid. */
    public String fsid() {
        return fsid;
    }

    /** The cluster directory (data, logs, keyrings). */
    public Path dir() {
        return dir;
    }

    /** ceph.conf of the cluster; its {@code keyring} is the admin keyring. */
    public Path confPath() {
        return dir.resolve("ceph.conf");
    }

    /** The client.admin keyring. */
    public Path adminKeyring() {
        return dir.resolve("client.admin.keyring");
    }

    /** The RBD test pool. */
    public String pool() {
        return options.pool();
    }

    /** The restricted user's id (without {@code client.}). */
    public String clientId() {
        return options.clientId();
    }

    /** The restricted user's cephx key (base64). */
    public String clientKey() {
        return clientKey;
    }

    /** A file holding only the restricted user's key (for {@code --keyfile}). */
    public Path clientKeyFile() {
        return dir.resolve("client." + options.clientId() + ".key");
    }

    /**
     * CEPH_ARGS for tools acting as the restricted user without any config file, e.g. for
     * {@code rbd-fuse}: {@code --id csi --keyfile F -c /dev/null -m [v2:...,v1:...]}.
     */
    public String clientCephArgs() {
        return "--id " + options.clientId() + " --keyfile " + clientKeyFile() + " -c /dev/null -m " + monitors();
    }

    /** What this cluster was built with. */
    public Options options() {
        return options;
    }

    /** Wall time of the last {@link #start(Options)} boot or {@link #start()} restart, until usable for RBD. */
    public synchronized Duration lastStartDuration() {
        return lastStartDuration;
    }

    /** Milestones of the last boot or restart ({@code "412 ms mon started"}), for measurements. */
    public List<String> lastStartTimeline() {
        return timeline.stream().sorted(Comparator.comparingLong(l -> Long.parseLong(l.substring(0, l.indexOf(' ')))))
                .toList();
    }

    /** PIDs of the running daemons, in start order. */
    public synchronized List<Long> daemonPids() {
        return daemons.stream().map(Daemon::pid).toList();
    }

    /** True while the daemons run (between a start and a {@link #stop()}). */
    public synchronized boolean running() {
        return !daemons.isEmpty();
    }

    /**
     * Runs {@code tool} (rbd, rados, ceph, ...) as client.admin with this cluster's config:
     * {@code tool -c ceph.conf args...}. Does not throw on a non-zero exit.
     */
    public CliResult admin(String tool, String... args) throws IOException {
        List<String> argv = new ArrayList<>();
        argv.add(tool);
        argv.add("-c");
        argv.add(confPath().toString());
        argv.addAll(List.of(args));
        return Exec.run(argv, Map.of(), scratch(), CLI_TIMEOUT, Optional::empty);
    }

    /** Like {@link #admin}, returning stdout and throwing on a non-zero exit. */
    public String adminOk(String tool, String... args) throws IOException {
        CliResult r = admin(tool, args);
        if (!r.ok()) {
            throw new IOException(r.describe());
        }
        return r.stdout();
    }

    /** Waits until ceph-mgr is available (pool statistics, {@code ceph df}, rbd_support tasks need it). */
    public void awaitManager(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            CliResult r = admin("ceph", "--connect-timeout", "10", "mgr", "stat", "--format", "json");
            if (r.ok() && JSON.readTree(r.stdout()).path("available").asBoolean(false)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("ceph-mgr not available within " + timeout + ": " + r.describe());
            }
            sleep(Duration.ofMillis(250));
        }
    }

    /**
     * Stops the whole cluster and keeps its data: the OSD first (SIGTERM, it saves its store and
     * tells the monitor it goes down), then manager and monitor; SIGKILL for any daemon that
     * outlives its grace period.
     */
    public synchronized void stop() throws IOException {
        requireOpen();
        if (daemons.isEmpty()) {
            return;
        }
        try {
            List<Daemon> reverse = new ArrayList<>(daemons);
            java.util.Collections.reverse(reverse);
            for (Daemon d : reverse) {
                if (d.name().startsWith("osd.")) {
                    d.terminate();
                    if (!d.awaitExit(GRACEFUL_OSD_STOP)) {
                        d.kill();
                    }
                }
            }
            for (Daemon d : reverse) {
                d.terminate();
            }
            for (Daemon d : reverse) {
                if (!d.awaitExit(GRACEFUL_STOP)) {
                    d.kill();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping " + dir, e);
        } finally {
            daemons.removeIf(d -> !d.alive());
            writePids();
        }
        if (!daemons.isEmpty()) {
            throw new IOException("daemons did not stop: " + daemons.stream().map(Daemon::describeDeath).toList());
        }
    }

    /** Starts a {@link #stop() stopped} cluster again, same monitor ports and data; returns when usable for RBD. */
    public synchronized void start() throws IOException {
        requireOpen();
        if (!daemons.isEmpty()) {
            throw new IllegalStateException("cluster " + dir + " is running");
        }
        long t0 = mark(null);
        Path osdLog = dir.resolve("log/ceph-osd.0.log");
        long osdLogSize = Files.exists(osdLog) ? Files.size(osdLog) : 0;
        startMon();
        startMgr();
        startOsd();
        mark("daemons started, mon accepts connections");
        // A client that sees the OSD still down parks its ops until its next objecter tick (5 s):
        // wait for the OSD to be up, as the OSD itself logs it, before asking.
        awaitLog(osdLog, osdLogSize, "state: booting -> active");
        mark("osd up");
        cli("rbd", "ls", "-p", options.pool());
        mark("usable for RBD (rbd ls)");
        lastStartDuration = Duration.ofNanos(System.nanoTime() - t0);
    }

    /** Stops every daemon (SIGTERM, then SIGKILL after a short grace) and deletes the directory. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                teardown();
            } finally {
                deleteTree(dir);
            }
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down (we may be that hook).
        }
    }

    @Override
    public String toString() {
        return "CephCluster[" + dir + ", mon " + monitors() + ", fsid " + fsid + ", pool " + options.pool() + "]";
    }

    // ---- boot

    private synchronized void boot() throws IOException {
        long t0 = mark(null);
        for (String d : List.of("mon", "mgr/ceph-x", "osd/ceph-0", "run", "log", "crash", "mgr-modules", "scratch")) {
            Files.createDirectories(dir.resolve(d));
        }
        for (String m : MGR_MODULES) {
            Files.createSymbolicLink(dir.resolve("mgr-modules").resolve(m), MGR_MODULE_SRC.resolve(m));
        }
        writeKeys();
        Files.writeString(confPath(), conf());
        mark("keys and conf written");
        String osdUuid = UUID.randomUUID().toString();
        ExecutorService workers = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "ceph-fixture-boot");
            t.setDaemon(true);
            return t;
        });
        try {
            CompletableFuture<Void> osdMkfs = async(workers, () -> {
                cli("ceph-osd", "-i", "0", "--mkfs", "--osd-uuid", osdUuid, "--no-mon-config", "--setuser", "root",
                        "--setgroup", "root");
                mark("osd mkfs done");
            });
            cli("monmaptool", "--create", "--fsid", fsid, "--enable-all-features", "--set-min-mon-release", "pacific",
                    "--addv", "a", monitors(), dir.resolve("monmap").toString());
            cli("ceph-mon", "--mkfs", "-i", "a", "--monmap", dir.resolve("monmap").toString(), "--keyring",
                    dir.resolve("mon.keyring").toString());
            mark("mon mkfs done");
            startMon();
            startMgr();
            mark("mon and mgr started");
            // One python process on librados registers the OSD, waits for it, creates and inits the pool:
            // the 'ceph' CLI would cost ~0.5 s of startup per command.
            Files.writeString(dir.resolve("bootstrap.py"), BOOTSTRAP_PY);
            CompletableFuture<CliResult> bootstrap = CompletableFuture.supplyAsync(() -> {
                try {
                    return Exec.run(List.of(PYTHON, dir.resolve("bootstrap.py").toString(), confPath().toString(),
                            osdUuid, options.pool(), Integer.toString(options.pgNum())), Map.of(), scratch(),
                            CLI_TIMEOUT, this::deadDaemon);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, workers);
            join(osdMkfs);
            // Started before 'osd new' completes: the OSD boots as soon as the map has it.
            startOsd();
            mark("osd started");
            CliResult r;
            try {
                r = bootstrap.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof UncheckedIOException u ? u.getCause() : new IOException(e.getCause());
            }
            long offset = Duration.ofNanos(System.nanoTime() - timelineStart).toMillis() - r.duration().toMillis();
            for (String line : r.stdout().split("\n")) {
                String[] f = line.split(" ms ", 2);
                if (f.length == 2) {
                    timeline.add((offset + Long.parseLong(f[0].strip())) + " ms " + f[1]);
                }
            }
            if (!r.ok()) {
                throw new IOException(r.describe() + deadDaemon().map(x -> "; " + x).orElse(""));
            }
            mark("usable for RBD");
        } finally {
            workers.shutdownNow();
        }
        lastStartDuration = Duration.ofNanos(System.nanoTime() - t0);
    }

    private void writeKeys() throws IOException {
        String mon = CephKeys.generate();
        String admin = CephKeys.generate();
        String mgr = CephKeys.generate();
        String osd = CephKeys.generate();
        String pool = options.pool();
        var adminEntry = new CephKeys.Entry("client.admin", admin,
                Map.of("mon", "allow *", "osd", "allow *", "mds", "allow *", "mgr", "allow *"));
        var mgrEntry = new CephKeys.Entry("mgr.x", mgr,
                Map.of("mon", "allow profile mgr", "osd", "allow *", "mds", "allow *"));
        var osdEntry = new CephKeys.Entry("osd.0", osd,
                Map.of("mon", "allow profile osd", "mgr", "allow profile osd", "osd", "allow *"));
        var clientEntry = new CephKeys.Entry("client." + options.clientId(), clientKey,
                Map.of("mon", "profile rbd", "osd", "profile rbd pool=" + pool, "mgr", "profile rbd pool=" + pool));
        // The monitor imports every key with its caps at mkfs: no 'ceph auth' round trip later.
        writeSecret(dir.resolve("mon.keyring"), CephKeys.keyring(
                new CephKeys.Entry("mon.", mon, Map.of("mon", "allow *")), adminEntry, mgrEntry, osdEntry, clientEntry));
        writeSecret(adminKeyring(), CephKeys.keyring(adminEntry));
        writeSecret(dir.resolve("mgr/ceph-x/keyring"), CephKeys.keyring(mgrEntry));
        writeSecret(dir.resolve("osd/ceph-0/keyring"), CephKeys.keyring(osdEntry));
        writeSecret(dir.resolve("client." + options.clientId() + ".keyring"), CephKeys.keyring(clientEntry));
        writeSecret(clientKeyFile(), clientKey + "\n");
    }

    private static void writeSecret(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }

    private String conf() {
        String d = dir.toString();
        boolean mem = options.store() == ObjectStore.MEMSTORE;
        return String.join("\n",
                "[global]",
                "fsid = " + fsid,
                "mon_host = " + monitors(),
                "public_network = 127.0.0.0/8",
                "cluster_network = 127.0.0.0/8",
                "auth_cluster_required = cephx",
                "auth_service_required = cephx",
                "auth_client_required = cephx",
                "auth_allow_insecure_global_id_reclaim = false",
                "mon_warn_on_insecure_global_id_reclaim = false",
                "mon_warn_on_insecure_global_id_reclaim_allowed = false",
                "keyring = " + d + "/client.admin.keyring",
                "run_dir = " + d + "/run",
                "admin_socket = " + d + "/run/$cluster-$name.asok",
                "log_file = " + d + "/log/$cluster-$name.log",
                "pid_file = " + d + "/run/$cluster-$name.pid",
                "crash_dir = " + d + "/crash",
                "log_to_stderr = false",
                "err_to_stderr = true",
                "log_to_file = true",
                "osd_pool_default_size = 1",
                "osd_pool_default_min_size = 1",
                "mon_allow_pool_size_one = true",
                "mon_warn_on_pool_no_redundancy = false",
                "osd_crush_chooseleaf_type = 0",
                "osd_pool_default_pg_num = 8",
                "osd_pool_default_pgp_num = 8",
                "osd_pool_default_pg_autoscale_mode = off",
                "mon_max_pg_per_osd = 1000",
                "mon_allow_pool_delete = true",
                "mon_osd_reporter_subtree_level = osd",
                "mon_data_avail_warn = 2",
                "mon_data_avail_crit = 1",
                "mon_warn_on_osd_down_out_interval_zero = false",
                "ms_bind_ipv4 = true",
                "ms_bind_ipv6 = false",
                "rbd_default_features = layering,exclusive-lock,object-map,fast-diff,deep-flatten",
                "rbd_default_clone_format = 2",
                "debug_ms = 0",
                "mgr_initial_modules = iostat",
                "# map changes (OSD up, pool create, snapshots) ~10x faster than the 1 s default",
                "paxos_propose_interval = 0.1",
                "mgr_stats_period = 1",
                "mon_mgr_digest_period = 1",
                "osd_mon_report_interval = 1",
                "osd_pool_default_flag_hashpspool = true",
                "",
                "[mon]",
                "mon_data = " + d + "/mon/$cluster-$id",
                "keyring = " + d + "/mon/$cluster-$id/keyring",
                "mon_cluster_log_file = " + d + "/log/$cluster.log",
                "mon_osd_down_out_interval = 0",
                "",
                "[mgr]",
                "mgr_data = " + d + "/mgr/$cluster-$id",
                "keyring = " + d + "/mgr/$cluster-$id/keyring",
                "# only the always-on modules (+iostat): the manager starts about twice as fast",
                "mgr_module_path = " + d + "/mgr-modules",
                "",
                "[osd]",
                "osd_data = " + d + "/osd/$cluster-$id",
                "keyring = " + d + "/osd/$cluster-$id/keyring",
                "osd_objectstore = " + (mem ? "memstore" : "bluestore"),
                "memstore_device_bytes = " + options.storeBytes(),
                "memstore_page_set = false",
                "# not inside osd_data as 'block': that would be a self-symlink and mkfs fails",
                "bluestore_block_path = " + d + "/osd/$cluster-$id.block",
                "bluestore_block_create = true",
                "bluestore_block_size = " + options.storeBytes(),
                "bluestore_fsck_on_mkfs = false",
                "bluestore_fsck_on_mount = false",
                "bluestore_cache_size = 268435456",
                "osd_memory_target = 939524096",
                "osd_class_load_list = *",
                "osd_class_default_list = *",
                "osd_crush_update_on_start = true",
                "osd_max_object_name_len = 460",
                "osd_max_object_namespace_len = 64",
                "osd_op_num_shards = 1",
                "osd_op_num_threads_per_shard = 2",
                "osd_heartbeat_grace = 20",
                "# SIGTERM shuts down cleanly: memstore saves itself, so stop()/start() keeps the data",
                "osd_fast_shutdown = false",
                "",
                "[client]",
                "rbd_cache = true",
                "admin_socket = " + d + "/run/$cluster-$name.$pid.$cctid.asok",
                "log_to_file = false",
                "");
    }

    /** Records a milestone; {@code null} starts a new timeline. Returns the start time. */
    private long mark(String what) {
        long now = System.nanoTime();
        if (what == null) {
            timeline.clear();
            timelineStart = now;
        } else {
            timeline.add((now - timelineStart) / 1_000_000 + " ms " + what);
        }
        return now;
    }

    /**
     * Starts the monitor and waits until it accepts connections. A client that starts before that
     * gets "connection refused" and retries only at its next hunt tick, seconds later.
     */
    private synchronized void startMon() throws IOException {
        startDaemon("mon.a", "ceph-mon", "-i", "a");
        long deadline = System.nanoTime() + CLI_TIMEOUT.toNanos();
        while (!accepts(monV2Port)) {
            Optional<String> dead = deadDaemon();
            if (dead.isPresent()) {
                throw new IOException(dead.get());
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("mon.a does not accept connections on 127.0.0.1:" + monV2Port + " after "
                        + CLI_TIMEOUT);
            }
            sleep(Duration.ofMillis(10));
        }
    }

    /** Waits until {@code text} appears in {@code file} after byte {@code from}. */
    private void awaitLog(Path file, long from, String text) throws IOException {
        long deadline = System.nanoTime() + CLI_TIMEOUT.toNanos();
        byte[] needle = text.getBytes(StandardCharsets.UTF_8);
        while (true) {
            if (Files.exists(file) && Files.size(file) > from) {
                try (var ch = Files.newByteChannel(file)) {
                    ch.position(from);
                    byte[] tail = java.nio.channels.Channels.newInputStream(ch).readAllBytes();
                    if (indexOf(tail, needle) >= 0) {
                        return;
                    }
                }
            }
            Optional<String> dead = deadDaemon();
            if (dead.isPresent()) {
                throw new IOException(dead.get());
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("'" + text + "' did not appear in " + file + " within " + CLI_TIMEOUT);
            }
            sleep(Duration.ofMillis(20));
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private synchronized void startMgr() throws IOException {
        startDaemon("mgr.x", "ceph-mgr", "-i", "x");
    }

    private synchronized void startOsd() throws IOException {
        startDaemon("osd.0", "ceph-osd", "-i", "0");
    }

    private void startDaemon(String name, String binary, String... args) throws IOException {
        List<String> argv = new ArrayList<>();
        argv.add(binary);
        argv.addAll(List.of(args));
        argv.addAll(List.of("-c", confPath().toString(), "--setuser", "root", "--setgroup", "root"));
        Path daemonLog = dir.resolve("log").resolve("ceph-" + name + ".log");
        daemons.add(Daemon.start(name, argv, dir.resolve("log").resolve(name + ".stdout"), daemonLog));
        writePids();
    }

    /** Runs a boot/readiness command as admin, failing fast when a daemon dies meanwhile. */
    private void cli(String tool, String... args) throws IOException {
        List<String> argv = new ArrayList<>();
        argv.add(tool);
        argv.add("-c");
        argv.add(confPath().toString());
        argv.addAll(List.of(args));
        CliResult r = Exec.run(argv, Map.of(), scratch(), CLI_TIMEOUT, this::deadDaemon);
        if (!r.ok()) {
            throw new IOException(r.describe() + deadDaemon().map(s -> "; " + s).orElse(""));
        }
    }

    /** Asked from boot threads while boot holds the monitor: reads the copy-on-write list unlocked. */
    private Optional<String> deadDaemon() {
        for (Daemon d : daemons) {
            if (!d.alive()) {
                return Optional.of("daemon died: " + d.describeDeath());
            }
        }
        return Optional.empty();
    }

    private boolean monLostItsPort() {
        String log = Daemon.tail(dir.resolve("log/ceph-mon.a.log")) + Daemon.tail(dir.resolve("log/mon.a.stdout"));
        return log.contains("Address already in use") || log.contains("unable to bind");
    }

    // ---- teardown

    private void teardown() {
        List<Daemon> reverse = new ArrayList<>(daemons);
        java.util.Collections.reverse(reverse);
        for (Daemon d : reverse) {
            d.terminate();
        }
        try {
            long deadline = System.nanoTime() + TEARDOWN_GRACE.toNanos();
            for (Daemon d : reverse) {
                long left = Math.max(0, deadline - System.nanoTime());
                if (!d.awaitExit(Duration.ofNanos(left))) {
                    d.kill();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            for (Daemon d : reverse) {
                try {
                    d.kill();
                } catch (InterruptedException ignored) {
                    // keep killing the others
                }
            }
        }
        daemons.clear();
    }

    private void closeQuietly() {
        try {
            close();
        } catch (RuntimeException e) {
            System.err.println("ceph fixture teardown of " + dir + " failed: " + e);
        }
    }

    private void writePids() {
        StringBuilder sb = new StringBuilder();
        for (Daemon d : daemons) {
            sb.append(d.name()).append(' ').append(d.pid()).append('\n');
        }
        try {
            Files.writeString(dir.resolve("pids"), sb.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path scratch() {
        return dir.resolve("scratch");
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("cluster " + dir + " is closed");
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("could not delete " + root + ": " + e);
        }
    }

    /** A boot step run in parallel. */
    @FunctionalInterface
    private interface Step {
        void run() throws IOException;
    }

    private static CompletableFuture<Void> async(ExecutorService pool, Step step) {
        return CompletableFuture.runAsync(() -> {
            try {
                step.run();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, pool);
    }

    private static void join(CompletableFuture<Void> f) throws IOException {
        try {
            f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            throw new IOException(e.getCause());
        }
    }

    private static void sleep(Duration d) throws IOException {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
