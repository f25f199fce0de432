package dev.nodekit.csi.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.ProcessCommandRunner;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.csi.Failpoints;
import dev.nodekit.csi.Failpoints.Point;
import dev.nodekit.csi.spi.Attachment;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.Image;
import dev.nodekit.csi.spi.PageRequest;
import dev.nodekit.csi.spi.Snapshot;

/**
 * Crash safety of the local backend, proven by stopping a real JVM: for every {@code local.*}
 * failpoint a child JVM runs concurrent creates, restores, clones, deletes, snapshots, resizes,
 * attaches and detaches against a data dir with that point armed and halts there (as kill -9
 * would); the test reopens the backend, checks that every answered request is durable, retries
 * every request left without an answer until it answers, and then requires the objects on disk to
 * be exactly those of the answered requests: no orphan file, no reservation left, no name twice, no
 * loop device left. Points only recovery reaches (undo) are armed in a second child that recovers
 * from a first crash, and so are a few more to crash recovery itself. Then random kill -9s, with
 * synced writes and without (which must survive a killed process too).
 */
@Requires({Requirement.ROOT, Requirement.LOOP_DEVICES})
class LocalBackendCrashIT {
    private static final String NODE = "crash-node";
    private static final long MIB = 1 << 20;
    private static final Credentials NONE = Credentials.none();

    @TempDir
    Path dir;

    /** Each armed point, and the point of a first crash whose recovery reaches it (or none). */
    static Stream<Arguments> scenarios() {
        List<Arguments> out = new ArrayList<>();
        for (Point p : Failpoints.withPrefix("local.")) {
            boolean onlyRecoveryReachesIt = p == Point.LOCAL_UNDO_FILE_REMOVED || p == Point.LOCAL_UNDO_DONE;
            out.add(Arguments.of(onlyRecoveryReachesIt ? Point.LOCAL_CREATE_FILE_WRITTEN : p,
                    onlyRecoveryReachesIt ? Optional.of(p) : Optional.empty()));
        }
        // A crash during the recovery of a crash.
        out.add(Arguments.of(Point.LOCAL_DELETE_INTENT, Optional.of(Point.LOCAL_DELETE_FILE_REMOVED)));
        out.add(Arguments.of(Point.LOCAL_SNAPSHOT_DELETE_INTENT, Optional.of(Point.LOCAL_SNAPSHOT_DELETE_DONE)));
        out.add(Arguments.of(Point.LOCAL_DETACH_INTENT, Optional.of(Point.LOCAL_DETACH_LOOP_DETACHED)));
        out.add(Arguments.of(Point.LOCAL_SNAPSHOT_FILE_WRITTEN, Optional.of(Point.LOCAL_UNDO_DONE)));
        return out.stream();
    }

    @ParameterizedTest(name = "crash at {0}, then in recovery at {1}")
    @MethodSource("scenarios")
    void everyAnsweredRequestSurvivesAndEveryOtherFinishesOnRetry(Point crash, Optional<Point> inRecovery)
            throws Exception {
        Path data = dir.resolve("data");
        Model model = new Model();
        List<CrashOp> ops = new ArrayList<>();
        try (LocalBackend b = open(data)) {
            String base1 = setup(b, model, "create", "base1", Long.toString(8 * MIB));
            String base2 = setup(b, model, "create", "base2", Long.toString(8 * MIB));
            String snapA = setup(b, model, "snapshot", "snapA", base1);
            String del1 = setup(b, model, "create", "del1", Long.toString(8 * MIB));
            String del2 = setup(b, model, "create", "del2", Long.toString(8 * MIB));
            String snapDel = setup(b, model, "snapshot", "snapDel", base2);
            String grow = setup(b, model, "create", "grow", Long.toString(8 * MIB));
            String att = setup(b, model, "create", "att", Long.toString(8 * MIB));
            String det = setup(b, model, "create", "det", Long.toString(8 * MIB));
            setup(b, model, "attach", det);
            int seq = 100;
            ops.add(CrashOp.of(seq, seq++, "create", "new1", Long.toString(8 * MIB)));
            ops.add(CrashOp.of(seq, seq++, "create", "new2", Long.toString(4 * MIB)));
            ops.add(CrashOp.of(seq, seq++, "restore", "new3", Long.toString(16 * MIB), snapA));
            ops.add(CrashOp.of(seq, seq++, "clone", "new4", Long.toString(8 * MIB), base2));
            ops.add(CrashOp.of(seq, seq++, "delete", del1));
            ops.add(CrashOp.of(seq, seq++, "delete", del2));
            ops.add(CrashOp.of(seq, seq++, "snapshot", "snap1", base1));
            ops.add(CrashOp.of(seq, seq++, "snapshot", "snap2", base2));
            ops.add(CrashOp.of(seq, seq++, "delete-snapshot", snapDel));
            ops.add(CrashOp.of(seq, seq++, "resize", grow, Long.toString(16 * MIB)));
            ops.add(CrashOp.of(seq, seq++, "attach", att));
            ops.add(CrashOp.of(seq, seq, "detach", det));
        }
        Path opsFile = Files.write(dir.resolve("ops"), ops.stream().map(CrashOp::line).toList());

        Child first = Child.start(data, Optional.of(crash), true, "ops", opsFile.toString());
        first.awaitExit(Duration.ofMinutes(3));
        assertThat(first.exit).as("the child must die at %s; stderr:%n%s", crash, first.stderr)
                .isEqualTo(Failpoints.EXIT_STATUS);
        assertThat(first.stderr).contains("failpoint " + crash.id() + " hit");
        if (inRecovery.isPresent()) {
            Child second = Child.start(data, inRecovery, true, "recover");
            second.awaitExit(Duration.ofMinutes(3));
            assertThat(second.exit).as("recovery must reach %s; stderr:%n%s", inRecovery.get(), second.stderr)
                    .isEqualTo(Failpoints.EXIT_STATUS);
            assertThat(second.stderr).contains("failpoint " + inRecovery.get().id() + " hit");
        }
        verify(data, model, first.lines());
    }

    @ParameterizedTest(name = "synced writes: {0}")
    @ValueSource(booleans = {true, false})
    void randomKillsLeaveAConsistentDataDir(boolean sync) throws Exception {
        Path data = dir.resolve("data");
        open(data).close();
        Model model = new Model();
        Random random = new Random(20261125);
        int iterations = Integer.getInteger("crash.iterations", 6);
        int interrupted = 0;
        for (int i = 0; i < iterations; i++) {
            Child child = Child.start(data, Optional.empty(), sync, "random", "4");
            assertThat(child.opened.await(2, TimeUnit.MINUTES)).as("child opened; stderr: %s", child.stderr).isTrue();
            Thread.sleep(200 + random.nextInt(1300));
            // SIGKILL through the handle: Process.destroyForcibly() also closes our end of the child's
            // stdout, which would lose the protocol lines still in the pipe.
            assertThat(child.process.toHandle().destroyForcibly()).isTrue();
            child.awaitExit(Duration.ofMinutes(1));
            assertThat(child.exit).as("killed, not finished; stderr:%n%s", child.stderr).isEqualTo(137);
            interrupted += verify(data, model, child.lines());
        }
        assertThat(model.objects).as("the workload made and kept some images").isNotEmpty();
        assertThat(interrupted).as("kills that interrupted a request").isPositive();
    }

    // ------------------------------------------------------------------ verification

    /**
     * Reopens, checks the recovered state against the answered requests, retries the unanswered
     * ones to an answer, and checks the final state; {@code model} is advanced to it.
     */
    private int verify(Path data, Model model, List<String> childLines) throws Exception {
        Log log = Log.parse(childLines);
        assertThat(log.failures).as("requests that failed in the child").isEmpty();
        try (LocalBackend b = open(data)) {
            assertThat(LocalDataDirCheck.inspect(data).problems()).as("after recovery").isEmpty();

            // 1. Every answered request is durable; only what an unanswered one touches may differ.
            Model acked = model.copy();
            Set<String> uncertainIds = new HashSet<>();
            Set<String> uncertainNames = new HashSet<>();
            List<CrashOp> inFlight = new ArrayList<>();
            for (List<CrashOp> thread : log.byThread().values()) {
                for (CrashOp op : thread) {
                    String result = log.results.get(op.seq());
                    if (result == null) {
                        inFlight.add(op);
                        op.target().ifPresent(uncertainIds::add);
                        op.createdName().ifPresent(uncertainNames::add);
                        break; // a thread runs one request at a time: nothing after it started
                    }
                    acked.apply(op, result);
                }
            }
            Map<String, Model.Obj> recovered = actual(b);
            for (Map.Entry<String, Model.Obj> e : acked.objects.entrySet()) {
                if (!uncertainIds.contains(e.getKey())) {
                    Model.Obj got = recovered.get(e.getKey());
                    assertThat(got).as("answered %s (%s) must have survived; requests touching it: %s", e.getValue(),
                            e.getKey(), log.about(e.getKey(), e.getValue().name())).isNotNull();
                    assertThat(got.name()).isEqualTo(e.getValue().name());
                    if (e.getValue().kind().equals("image")) {
                        assertThat(got.size()).as("size of %s", e.getValue()).isEqualTo(e.getValue().size());
                    }
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

            // 2. Retry each unanswered request until it answers: then every request has its effect, once.
            Model expected = acked;
            for (CrashOp op : inFlight) {
                expected.apply(op, op.execute(b));
            }
            Map<String, Model.Obj> now = actual(b);
            assertThat(now).isEqualTo(expected.objects);
            Set<String> attachedNow = new TreeSet<>();
            for (Attachment a : b.attachments()) {
                attachedNow.add(a.image().encode());
            }
            assertThat(attachedNow).isEqualTo(expected.attached);
            List<String> names = now.values().stream().map(o -> o.kind() + "/" + o.name()).toList();
            assertThat(names).as("no name twice").doesNotHaveDuplicates();
            assertThat(LocalDataDirCheck.inspect(data).problems()).as("after the retries").isEmpty();
            model.replaceWith(expected);
            return inFlight.size();
        }
    }

    /** The READY objects the backend lists, by id. */
    private static Map<String, Model.Obj> actual(LocalBackend b) throws Exception {
        Map<String, Model.Obj> out = new TreeMap<>();
        for (Image i : b.listImages(PageRequest.all(), NONE).items()) {
            out.put(i.id().encode(), new Model.Obj("image", i.name(), i.sizeBytes()));
        }
        for (Snapshot s : b.listSnapshots(Optional.empty(), Optional.empty(), PageRequest.all(), NONE).items()) {
            out.put(s.id().encode(), new Model.Obj("snapshot", s.name(), s.sizeBytes()));
        }
        return out;
    }

    private static String setup(LocalBackend b, Model model, String kind, String... args) throws Exception {
        CrashOp op = CrashOp.of(0, -1, kind, args);
        String result = op.execute(b);
        model.apply(op, result);
        return result;
    }

    private static LocalBackend open(Path data) throws IOException {
        return LocalBackendFactory.open(LocalBackendConfig.of(data, NODE));
    }

    @AfterEach
    void detachWhateverATestLeft() throws Exception {
        // Normally verify() detaches everything; this is the net for a failed assertion.
        Path data = dir.resolve("data");
        if (Files.isDirectory(data)) {
            try (LocalBackend b = open(data)) {
                for (Attachment a : b.attachments()) {
                    b.detach(a.image());
                }
            }
        }
        ProcessCommandRunner runner = new ProcessCommandRunner();
        String all = runner.runChecked(Command.of("losetup", "-a")).stdout();
        List<String> ours = all.lines().filter(l -> l.contains(dir.toString())).toList();
        for (String line : ours) {
            runner.run(Command.of("losetup", "-d", line.substring(0, line.indexOf(':'))));
        }
        assertThat(ours).as("loop devices left on the test's data dir").isEmpty();
    }

    // ------------------------------------------------------------------ the model

    /** What should exist: objects by id, and the attached image ids. */
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

        void apply(CrashOp op, String result) {
            List<String> a = op.args();
            switch (op.kind()) {
                case "create", "restore", "clone" -> objects.put(result, new Obj("image", a.get(0),
                        Long.parseLong(a.get(1))));
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

    /** The child's protocol lines, parsed. */
    record Log(List<CrashOp> started, Map<Integer, String> results, List<String> failures) {
        static Log parse(List<String> lines) {
            assertThat(lines).as("the child's protocol was read completely").noneMatch(l -> l.startsWith("READ-ERROR"));
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

        /** The protocol lines about an id or name, with their answers (for failure messages). */
        List<String> about(String id, String name) {
            List<String> out = new ArrayList<>();
            for (CrashOp op : started) {
                if (op.args().contains(id) || op.args().contains(name)) {
                    out.add(op.line() + " -> " + results.getOrDefault(op.seq(), "(no answer)"));
                }
            }
            return out;
        }

        /** Started requests by thread, in the order each thread started them. */
        Map<Integer, List<CrashOp>> byThread() {
            Map<Integer, List<CrashOp>> out = new TreeMap<>();
            for (CrashOp op : started) {
                out.computeIfAbsent(op.thread(), t -> new ArrayList<>()).add(op);
            }
            out.values().forEach(l -> l.sort((x, y) -> Integer.compare(x.seq(), y.seq())));
            return out;
        }
    }

    /** A child JVM running {@link LocalCrashChild}, its output collected as it comes. */
    static final class Child {
        final Process process;
        final List<String> stdout = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch opened = new CountDownLatch(1);
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
                        if (l.equals("OPEN")) {
                            opened.countDown();
                        }
                    }
                } catch (IOException e) {
                    stdout.add("READ-ERROR " + e); // makes the log check fail loudly: a lost line hides requests
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

        static Child start(Path data, Optional<Point> armed, boolean sync, String... mode) throws IOException {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
                    "-cp", System.getProperty("java.class.path")));
            armed.ifPresent(p -> cmd.add("-D" + Failpoints.PROPERTY + "=" + p.id()));
            cmd.add(LocalCrashChild.class.getName());
            cmd.add(data.toString());
            cmd.add(NODE);
            cmd.add(Boolean.toString(sync));
            cmd.addAll(List.of(mode));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().remove(Failpoints.ENV);
            pb.environment().put("NODEKIT_LOG_LEVEL", "WARN");
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
