package dev.nodekit.csi.rbd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.exec.ProcessCommandRunner;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.csi.Failpoints;
import dev.nodekit.csi.Failpoints.Point;
import dev.nodekit.csi.local.CrashOp;
import dev.nodekit.csi.spi.Attachment;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.Image;
import dev.nodekit.csi.spi.ObjectId;
import dev.nodekit.csi.spi.PageRequest;
import dev.nodekit.csi.spi.Snapshot;
import dev.nodekit.e2e.ceph.CephCluster;

/**
 * Crash safety of the RBD backend against a real cluster, by stopping a real JVM: for every
 * {@code rbd.*} failpoint a child JVM runs, concurrently, the requests of that point's operation
 * (creates, restores and clones; a delete; a snapshot; a snapshot delete; a resize; an attach; a
 * detach) and a create of another name, with that point armed, and halts there (as kill -9
 * would). The test then reopens the backend (which heals the node state), checks
 * that every answered request is durable, retries every unanswered one until it answers, and
 * requires the pool to hold exactly the answered objects: the RBD images ({@code rbd ls}), the
 * journal's name keys and UUID objects ({@code rados listomapkeys}, {@code rados ls}), no intent
 * key left, no live object in the trash; and the node to hold exactly the answered attachments, with
 * no stray rbd-fuse daemon or loop device. A crash inside the node healing of a crash is tested too.
 */
@Requires({Requirement.ROOT, Requirement.CEPH, Requirement.RBD_FUSE, Requirement.LOOP_DEVICES})
class RbdCrashIT {
    private static final long MIB = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern UUID_TEXT = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    /** The OSDs forget a killed client's watches after this (default 30 s); set for this test only. */
    private static final String WATCH_TIMEOUT_SECONDS = "8";

    static CephCluster cluster;
    static Path work;
    static RbdConfig base;
    static Path configFile;
    static RbdConfig config;
    static Map<String, String> params;
    static Credentials creds;
    static Set<String> baselineImages;
    static Set<String> baselineObjects;
    /** What each scenario left to delete at the end (by then the watches killed children left are gone). */
    static final List<Leftover> LEFTOVERS = new ArrayList<>();

    /** A scenario's objects, deleted after all scenarios ran. */
    record Leftover(RbdConfig config, Path data, Model model) {
    }

    @BeforeAll
    static void boot() throws Exception {
        cluster = CephCluster.shared();
        work = Files.createTempDirectory("nodekit-rbd-crash-");
        base = RbdTestCluster.config(cluster, RbdTestCluster.credentialDir(cluster, work));
        params = RbdTestCluster.parameters(cluster);
        creds = Credentials.of(RbdTestCluster.secrets(cluster));
        // A killed child leaves watches on the images it had open; the OSD drops them after the watch
        // timeout, and until then a delete of such an image is refused as "in use" (as in production,
        // where the CO retries). A short timeout keeps the test quick.
        cluster.adminOk("ceph", "config", "set", "osd", "osd_client_watch_timeout", WATCH_TIMEOUT_SECONDS);
    }

    @AfterAll
    static void cleanUp() throws Exception {
        for (Leftover l : LEFTOVERS) {
            config = l.config();
            try (RbdBackend b = open(l.data())) {
                for (Map.Entry<String, Model.Obj> e : l.model().objects.entrySet()) {
                    if (e.getValue().kind().equals("snapshot")) {
                        RbdCrashChild.execute(CrashOp.of(0, -1, "delete-snapshot", e.getKey()), b, params, creds);
                    }
                }
                for (Map.Entry<String, Model.Obj> e : l.model().objects.entrySet()) {
                    if (e.getValue().kind().equals("image")) {
                        RbdCrashChild.execute(CrashOp.of(0, -1, "delete", e.getKey()), b, params, creds);
                    }
                }
            }
        }
        if (cluster != null) {
            cluster.admin("ceph", "config", "rm", "osd", "osd_client_watch_timeout");
        }
        if (work != null) {
            try {
                RbdHost.assertNothingLeft(work);
            } finally {
                RbdHost.deleteTree(work);
            }
        }
    }

    static Stream<Arguments> scenarios() {
        List<Arguments> out = new ArrayList<>();
        for (Point p : Failpoints.withPrefix("rbd.")) {
            out.add(Arguments.of(p, Optional.empty()));
        }
        // A crash while the restarted node heals the state the first crash left.
        out.add(Arguments.of(Point.RBD_DETACH_INTENT, Optional.of(Point.RBD_DETACH_FUSE_STOPPED)));
        out.add(Arguments.of(Point.RBD_ATTACH_FUSE_STARTED, Optional.of(Point.RBD_DETACH_LOOP_DETACHED)));
        return out.stream();
    }

    @ParameterizedTest(name = "crash at {0}, then while healing at {1}")
    @MethodSource("scenarios")
    void everyAnsweredRequestSurvivesAndEveryOtherFinishesOnRetry(Point crash, Optional<Point> inRecovery)
            throws Exception {
        Path data = Files.createTempDirectory(work, "data-");
        String p = "x" + UUID.randomUUID().toString().substring(0, 6) + "-";
        // A journal of its own per scenario: other tests and scenarios share the pool.
        config = new RbdConfig("crash-" + p.substring(0, 7), base.softMaxCloneDepth(), base.hardMaxCloneDepth(), null,
                null, base.clusters());
        configFile = writeConfig(config, data.resolve("ceph.yaml"));
        baselineImages = images();
        baselineObjects = journalObjects();
        Model model = new Model();
        List<CrashOp> ops = new ArrayList<>();
        try {
            try (RbdBackend b = open(data)) {
                ops.addAll(opsFor(crash, b, model, p));
            }
            Path opsFile = Files.write(data.resolve("ops"), ops.stream().map(CrashOp::line).toList());
            Child first = Child.start(data, Optional.of(crash), "ops", opsFile.toString());
            first.awaitExit(Duration.ofMinutes(3));
            assertThat(first.exit).as("the child must die at %s; stderr:%n%s", crash, first.stderr)
                    .isEqualTo(Failpoints.EXIT_STATUS);
            assertThat(first.stderr).contains("failpoint " + crash.id() + " hit");
            if (inRecovery.isPresent()) {
                Child second = Child.start(data, inRecovery, "recover");
                second.awaitExit(Duration.ofMinutes(3));
                assertThat(second.exit).as("healing must reach %s; stderr:%n%s", inRecovery.get(), second.stderr)
                        .isEqualTo(Failpoints.EXIT_STATUS);
            }
            verify(data, model, first.lines());
        } finally {
            tearDown(data, model);
        }
    }

    /**
     * The requests a child runs with {@code crash} armed, after creating what they need: those of
     * the operation the point belongs to (all that can reach it, concurrently), plus a plain create
     * of another name in flight at the same time (a request the crash interrupts elsewhere, which
     * the retry must finish too). One family per scenario, instead of every operation in every
     * scenario, keeps the setup, the child's work and the objects to delete small: every point is
     * still crashed at with concurrent requests in flight.
     */
    private static List<CrashOp> opsFor(Point crash, RbdBackend b, Model model, String p) throws Exception {
        String id = crash.id();
        String size = Long.toString(8 * MIB);
        List<CrashOp> ops = new ArrayList<>();
        int seq = 100;
        if (id.startsWith("rbd.create.") || id.startsWith("rbd.clone.")) {
            // create, restore (a larger clone, resized) and clone (through a temporary source snapshot)
            String base1 = setup(b, model, "create", p + "base1", size);
            String snapA = setup(b, model, "snapshot", p + "snapA", base1);
            String base2 = setup(b, model, "create", p + "base2", size);
            ops.add(CrashOp.of(seq, seq++, "create", p + "new1", size));
            ops.add(CrashOp.of(seq, seq++, "restore", p + "new2", Long.toString(16 * MIB), snapA));
            ops.add(CrashOp.of(seq, seq++, "clone", p + "new3", size, base2));
            return ops;
        }
        if (id.startsWith("rbd.delete.")) {
            String del1 = setup(b, model, "create", p + "del1", size);
            ops.add(CrashOp.of(seq, seq++, "delete", del1));
        } else if (id.startsWith("rbd.resize.")) {
            String grow = setup(b, model, "create", p + "grow", size);
            ops.add(CrashOp.of(seq, seq++, "resize", grow, Long.toString(16 * MIB)));
        } else if (id.startsWith("rbd.snapshot.")) {
            String base1 = setup(b, model, "create", p + "base1", size);
            ops.add(CrashOp.of(seq, seq++, "snapshot", p + "snap1", base1));
        } else if (id.startsWith("rbd.snapshot-delete.")) {
            String base2 = setup(b, model, "create", p + "base2", size);
            String snapDel = setup(b, model, "snapshot", p + "snapDel", base2);
            ops.add(CrashOp.of(seq, seq++, "delete-snapshot", snapDel));
        } else if (id.startsWith("rbd.attach.")) {
            String att = setup(b, model, "create", p + "att", size);
            ops.add(CrashOp.of(seq, seq++, "attach", att));
        } else if (id.startsWith("rbd.detach.")) {
            String det = setup(b, model, "create", p + "det", size);
            setup(b, model, "attach", det);
            ops.add(CrashOp.of(seq, seq++, "detach", det));
        } else {
            throw new IllegalArgumentException("no requests reach failpoint " + id + ": add its operation here");
        }
        ops.add(CrashOp.of(seq, seq, "create", p + "other", size));
        return ops;
    }

    // ------------------------------------------------------------------ verification

    private void verify(Path data, Model model, List<String> childLines) throws Exception {
        Log log = Log.parse(childLines);
        assertThat(log.failures).as("requests that failed in the child").isEmpty();
        try (RbdBackend b = open(data)) {
            Model acked = model.copy();
            Set<String> uncertainIds = new HashSet<>();
            Set<String> uncertainNames = new HashSet<>();
            List<CrashOp> inFlight = new ArrayList<>();
            for (CrashOp op : log.started) {
                String result = log.results.get(op.seq());
                if (result == null) {
                    inFlight.add(op);
                    op.target().ifPresent(uncertainIds::add);
                    op.createdName().ifPresent(uncertainNames::add);
                } else {
                    acked.apply(op, result);
                }
            }
            Map<String, Model.Obj> recovered = actual(b, model.names());
            for (Map.Entry<String, Model.Obj> e : acked.objects.entrySet()) {
                if (!uncertainIds.contains(e.getKey())) {
                    assertThat(recovered.get(e.getKey())).as("answered %s must have survived", e.getValue()).isNotNull();
                    assertThat(recovered.get(e.getKey()).size()).as("size of %s", e.getValue())
                            .isEqualTo(e.getValue().size());
                }
            }
            for (Map.Entry<String, Model.Obj> e : recovered.entrySet()) {
                if (!acked.objects.containsKey(e.getKey())) {
                    assertThat(uncertainNames).as("%s exists but no answered request made it", e.getValue())
                            .contains(e.getValue().name());
                }
            }
            for (String id : acked.attached) {
                if (!uncertainIds.contains(id)) {
                    assertThat(b.findAttachment(CrashOp.image(id))).as("answered attach of %s", id).isPresent();
                }
            }
            Model expected = acked;
            for (CrashOp op : inFlight) {
                expected.apply(op, RbdCrashChild.execute(op, b, params, creds));
            }
            assertThat(actual(b, expected.names())).isEqualTo(expected.objects);
            Set<String> attachedNow = new TreeSet<>();
            for (Attachment a : b.attachments()) {
                attachedNow.add(a.image().encode());
                assertThat(b.findAttachment(a.image())).as("attachment of %s is live", a.image()).contains(a);
            }
            assertThat(attachedNow).isEqualTo(expected.attached);
            assertPoolHoldsExactly(expected);
            assertThat(RbdHost.fuseDaemonsUnder(data)).as("rbd-fuse daemons").hasSize(expected.attached.size());
            assertThat(RbdHost.loopsUnder(data)).as("loop devices").hasSize(expected.attached.size());
            model.replaceWith(expected);
        }
    }

    /** The ready objects the backend lists (of this scenario's names), by id. */
    private static Map<String, Model.Obj> actual(RbdBackend b, Set<String> names) throws Exception {
        Map<String, Model.Obj> out = new TreeMap<>();
        for (Image i : b.listImages(PageRequest.all(), creds).items()) {
            out.put(i.id().encode(), new Model.Obj("image", i.name(), i.sizeBytes()));
        }
        for (Snapshot s : b.listSnapshots(Optional.empty(), Optional.empty(), PageRequest.all(), creds).items()) {
            out.put(s.id().encode(), new Model.Obj("snapshot", s.name(), s.sizeBytes()));
        }
        return out;
    }

    /** The pool's images, journal keys and journal objects are exactly the model's (beyond the baseline). */
    private static void assertPoolHoldsExactly(Model m) throws Exception {
        Set<String> wantImages = new TreeSet<>();
        Set<String> wantObjects = new TreeSet<>();
        Set<String> wantVolumeKeys = new TreeSet<>();
        Set<String> wantSnapKeys = new TreeSet<>();
        for (Map.Entry<String, Model.Obj> e : m.objects.entrySet()) {
            String uuid = e.getKey().substring(e.getKey().length() - 36);
            if (e.getValue().kind().equals("image")) {
                wantImages.add("csi-vol-" + uuid);
                wantObjects.add("csi.volume." + uuid);
                wantVolumeKeys.add("csi.volume." + e.getValue().name());
            } else {
                wantImages.add("csi-snap-" + uuid);
                wantObjects.add("csi.snap." + uuid);
                wantSnapKeys.add("csi.snap." + e.getValue().name());
            }
        }
        Set<String> gotImages = images();
        gotImages.removeAll(baselineImages);
        gotImages.removeIf(n -> !n.startsWith("csi-"));
        Set<String> otherScenarios = new HashSet<>(gotImages);
        otherScenarios.removeAll(wantImages);
        assertThat(gotImages).as("RBD images in the pool").containsAll(wantImages);
        assertThat(otherScenarios).as("images in the pool that no answered request made").isEmpty();
        Set<String> gotObjects = journalObjects();
        gotObjects.removeAll(baselineObjects);
        assertThat(gotObjects).as("journal UUID objects").isEqualTo(wantObjects);
        assertThat(omapKeys("csi.volumes." + config.instanceID())).as("volume name keys (no intent left)")
                .isEqualTo(wantVolumeKeys);
        assertThat(omapKeys("csi.snaps." + config.instanceID())).as("snapshot name keys (no intent left)")
                .isEqualTo(wantSnapKeys);
        for (JsonNode t : JSON.readTree(cluster.adminOk("rbd", "trash", "ls", "-p", cluster.pool(), "--format", "json"))) {
            assertThat(wantImages).as("a live image sits in the trash").doesNotContain(t.path("name").asText());
        }
    }

    static Set<String> images() throws IOException {
        return new TreeSet<>(cluster.adminOk("rbd", "ls", "-p", cluster.pool()).lines().map(String::strip)
                .filter(l -> !l.isEmpty()).toList());
    }

    static Set<String> journalObjects() throws IOException {
        Set<String> out = new TreeSet<>();
        for (String l : cluster.adminOk("rados", "-p", cluster.pool(), "ls").lines().toList()) {
            String o = l.strip();
            if ((o.startsWith("csi.volume.") || o.startsWith("csi.snap."))
                    && UUID_TEXT.matcher(o.substring(o.lastIndexOf('.') + 1)).matches()) {
                out.add(o);
            }
        }
        return out;
    }

    static Set<String> omapKeys(String object) throws IOException {
        var r = cluster.admin("rados", "-p", cluster.pool(), "listomapkeys", object);
        if (!r.ok()) {
            return new TreeSet<>();
        }
        return new TreeSet<>(r.stdout().lines().map(String::strip).filter(l -> !l.isEmpty()).toList());
    }

    /**
     * Detaches everything of a scenario now (no daemon or loop device may pile up); its images and
     * snapshots are deleted after the last scenario, when no watch of a killed child delays it.
     */
    private static void tearDown(Path data, Model model) throws Exception {
        try (RbdBackend b = open(data)) {
            for (Attachment a : b.attachments()) {
                b.detach(a.image());
            }
        } finally {
            RbdHost.forceClean(data);
            LEFTOVERS.add(new Leftover(config, data, model.copy()));
        }
    }

    private static String setup(RbdBackend b, Model model, String kind, String... args) throws Exception {
        CrashOp op = CrashOp.of(0, -1, kind, args);
        String result = RbdCrashChild.execute(op, b, params, creds);
        model.apply(op, result);
        return result;
    }

    private static RbdBackend open(Path data) throws IOException {
        return RbdBackendFactory.open(config, data, new ProcessCommandRunner(), Clock.systemUTC());
    }

    private static Path writeConfig(RbdConfig c, Path file) throws IOException {
        RbdTestCluster.writeYaml(c, file);
        return file;
    }

    // ------------------------------------------------------------------ the model and the child's log

    /** What should exist: objects by id, attached image ids. */
    static final class Model {
        /** One image or snapshot. */
        record Obj(String kind, String name, long size) {
        }

        Map<String, Obj> objects = new TreeMap<>();
        Set<String> attached = new TreeSet<>();

        Model copy() {
            Model m = new Model();
            m.objects = new TreeMap<>(objects);
            m.attached = new TreeSet<>(attached);
            return m;
        }

        void replaceWith(Model other) {
            objects = new TreeMap<>(other.objects);
            attached = new TreeSet<>(other.attached);
        }

        Set<String> names() {
            Set<String> n = new HashSet<>();
            objects.values().forEach(o -> n.add(o.name()));
            return n;
        }

        void apply(CrashOp op, String result) {
            List<String> a = op.args();
            switch (op.kind()) {
                case "create", "restore", "clone" -> objects.put(result, new Obj("image", a.get(0), Long.parseLong(a.get(1))));
                case "snapshot" -> objects.put(result, new Obj("snapshot", a.get(0), objects.get(a.get(1)).size()));
                case "delete", "delete-snapshot" -> {
                    objects.remove(a.get(0));
                    attached.remove(a.get(0));
                }
                case "resize" -> objects.computeIfPresent(a.get(0), (k, o) -> new Obj(o.kind(), o.name(),
                        Long.parseLong(a.get(1))));
                case "attach" -> attached.add(a.get(0));
                case "detach" -> attached.remove(a.get(0));
                default -> throw new IllegalArgumentException(op.kind());
            }
        }
    }

    /** The child's protocol lines. */
    record Log(List<CrashOp> started, Map<Integer, String> results, List<String> failures) {
        static Log parse(List<String> lines) {
            List<CrashOp> started = new ArrayList<>();
            Map<Integer, String> results = new HashMap<>();
            List<String> failures = new ArrayList<>();
            for (String l : lines) {
                if (l.startsWith("START ")) {
                    started.add(CrashOp.parse(l.substring(6)));
                } else if (l.startsWith("DONE ")) {
                    String[] f = l.split(" ");
                    results.put(Integer.parseInt(f[1]), f[2]);
                } else if (l.startsWith("FAIL ")) {
                    failures.add(l);
                }
            }
            return new Log(started, results, failures);
        }
    }

    /** A child JVM running {@link RbdCrashChild}. */
    static final class Child {
        final Process process;
        final List<String> stdout = Collections.synchronizedList(new ArrayList<>());
        private final Thread reader;
        private final Thread errReader;
        private final StringBuffer err = new StringBuffer();
        String stderr = "";
        int exit = -1;

        private Child(Process process) {
            this.process = process;
            this.reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String l = r.readLine(); l != null; l = r.readLine()) {
                        stdout.add(l);
                    }
                } catch (IOException e) {
                    stdout.add("READ-ERROR " + e);
                }
            });
            this.errReader = new Thread(() -> {
                try {
                    err.append(new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException e) {
                    err.append("READ-ERROR ").append(e);
                }
            });
            reader.start();
            errReader.start();
        }

        static Child start(Path data, Optional<Point> armed, String... mode) throws IOException {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
                    "-cp", System.getProperty("java.class.path")));
            armed.ifPresent(p -> cmd.add("-D" + Failpoints.PROPERTY + "=" + p.id()));
            cmd.add(RbdCrashChild.class.getName());
            cmd.add(configFile.toString());
            cmd.add(data.toString());
            cmd.addAll(List.of(mode));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().remove(Failpoints.ENV);
            pb.environment().put("NODEKIT_LOG_LEVEL", "WARN");
            pb.environment().put("RBD_CLUSTER_ID", params.get("clusterID"));
            pb.environment().put("RBD_POOL", params.get("pool"));
            pb.environment().put("RBD_USER_ID", cluster.clientId());
            pb.environment().put("RBD_USER_KEY", cluster.clientKey());
            Process p = pb.start();
            p.getOutputStream().close();
            return new Child(p);
        }

        void awaitExit(Duration timeout) throws Exception {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
            reader.join(30_000);
            errReader.join(30_000);
            exit = process.exitValue();
            stderr = err.toString();
        }

        List<String> lines() {
            synchronized (stdout) {
                return List.copyOf(stdout);
            }
        }
    }
}
