package dev.nodekit.conformance.cri;

import static dev.nodekit.conformance.Expect.equal;
import static dev.nodekit.conformance.Expect.ok;
import static dev.nodekit.conformance.Expect.that;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.nodekit.conformance.CheckFailed;
import dev.nodekit.conformance.Expect;
import dev.nodekit.conformance.Suite;
import dev.nodekit.spec.cri.v1.Container;
import dev.nodekit.spec.cri.v1.ContainerConfig;
import dev.nodekit.spec.cri.v1.ContainerFilter;
import dev.nodekit.spec.cri.v1.ContainerState;
import dev.nodekit.spec.cri.v1.ContainerStateValue;
import dev.nodekit.spec.cri.v1.ContainerStatus;
import dev.nodekit.spec.cri.v1.ContainerStatusRequest;
import dev.nodekit.spec.cri.v1.ListContainersRequest;
import dev.nodekit.spec.cri.v1.RemoveContainerRequest;
import dev.nodekit.spec.cri.v1.StopContainerRequest;
import dev.nodekit.spec.cri.v1.StopPodSandboxRequest;
import io.grpc.Status;

/** Container checks: lifecycle, stop timeout, removal, list filters, exit codes, stop with the pod, logs. */
final class ContainerChecks {
    /** One line of a CRI container log: RFC 3339 time, stream, F(ull) or P(artial), content. */
    static final Pattern LOG_LINE = Pattern.compile("(\\S+) (stdout|stderr) ([FP]) (.*)");
    private static final Duration SETTLE = Duration.ofSeconds(15);

    private ContainerChecks() {
    }

    static void addTo(Suite.Builder<CriTarget> b) {
        b.check("cri.container.lifecycle", "CRI v1 Create/Start/Stop/RemoveContainer, ContainerStatus",
                "CREATED, then RUNNING, then EXITED 0 soon after StopContainer sends TERM, then NOT_FOUND once removed",
                Workspace.with("container-lifecycle", (t, ws) -> {
                    ws.requireImage();
                    Workspace.Pod pod = ws.runPod();
                    ContainerConfig cfg = ws.containerConfig("lifecycle", Commands.SLEEPER_ANNOUNCING, Map.of());
                    String id = ws.create(pod, cfg);
                    ContainerStatus s = ws.containerStatus(id);
                    equal(id, s.getId(), "ContainerStatus.id");
                    equal(ContainerState.CONTAINER_CREATED, s.getState(), "state after CreateContainer");
                    equal(cfg.getMetadata(), s.getMetadata(), "ContainerStatus.metadata");
                    that(s.getLabelsMap().entrySet().containsAll(cfg.getLabelsMap().entrySet()),
                            "ContainerStatus.labels %s lack some of %s", s.getLabelsMap(), cfg.getLabelsMap());
                    that(s.getCreatedAt() > 0, "created_at is %d", s.getCreatedAt());
                    ws.start(id);
                    s = ws.containerStatus(id);
                    equal(ContainerState.CONTAINER_RUNNING, s.getState(), "state after StartContainer");
                    that(s.getStartedAt() >= s.getCreatedAt(), "started_at %d is before created_at %d",
                            s.getStartedAt(), s.getCreatedAt());
                    // TERM before the shell has set its trap would end it with 143, through no fault of the runtime.
                    awaitLog(Path.of(pod.config().getLogDirectory()).resolve(cfg.getLogPath()),
                            List.of(new LogLine("stdout", true, Commands.TRAP_READY)));
                    long timeout = 30;
                    long t0 = System.nanoTime();
                    ok("StopContainer(timeout " + timeout + " s)", () -> t.runtime(Duration.ofSeconds(timeout))
                            .stopContainer(StopContainerRequest.newBuilder().setContainerId(id).setTimeout(timeout).build()));
                    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                    s = ws.containerStatus(id);
                    equal(ContainerState.CONTAINER_EXITED, s.getState(), "state after StopContainer");
                    equal(0, s.getExitCode(), "exit code of a container that exits 0 on SIGTERM");
                    that(ms < 10_000, "StopContainer took %d ms for a container that exits on SIGTERM at once "
                            + "(timeout %d s): was SIGTERM sent first?", ms, timeout);
                    that(s.getFinishedAt() >= s.getStartedAt(), "finished_at %d is before started_at %d",
                            s.getFinishedAt(), s.getStartedAt());
                    ok("RemoveContainer", () -> t.runtime().removeContainer(
                            RemoveContainerRequest.newBuilder().setContainerId(id).build()));
                    Expect.status(Status.Code.NOT_FOUND, "ContainerStatus of a removed container", () -> t.runtime()
                            .containerStatus(ContainerStatusRequest.newBuilder().setContainerId(id).build()));
                    expectIds(t, ContainerFilter.newBuilder().setId(id).build(), Set.of(), "filter id of a removed container");
                }));
        b.check("cri.container.stop-timeout", "CRI v1 StopContainer",
                "a container that ignores SIGTERM is killed once the stop timeout passes",
                Workspace.with("container-stop-timeout", (t, ws) -> {
                    ws.requireImage();
                    String id = ws.run(ws.runPod(), "ignores-term", Commands.IGNORES_TERM);
                    long timeout = 2;
                    ok("StopContainer(timeout " + timeout + " s)", () -> t.runtime(Duration.ofSeconds(timeout))
                            .stopContainer(StopContainerRequest.newBuilder().setContainerId(id).setTimeout(timeout).build()));
                    ContainerStatus s = ws.containerStatus(id);
                    equal(ContainerState.CONTAINER_EXITED, s.getState(), "state after StopContainer returned");
                    that(s.getExitCode() != 0, "a container killed by StopContainer reports exit code 0");
                }));
        b.check("cri.container.remove", "CRI v1 RemoveContainer",
                "a running container is removed by force; removing it again succeeds",
                Workspace.with("container-remove", (t, ws) -> {
                    ws.requireImage();
                    String id = ws.run(ws.runPod(), "doomed", Commands.SLEEPER);
                    for (int i = 1; i <= 2; i++) {
                        int n = i;
                        ok("RemoveContainer call " + n + (n == 1 ? " (container running)" : " (already removed)"),
                                () -> t.runtime().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(id).build()));
                        Expect.status(Status.Code.NOT_FOUND, "ContainerStatus after RemoveContainer call " + n,
                                () -> t.runtime().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(id).build()));
                    }
                }));
        b.check("cri.container.list-filters", "CRI v1 ListContainers",
                "ListContainers filters by id, pod, state and label selector, and lists without a filter",
                Workspace.with("container-list", (t, ws) -> {
                    ws.requireImage();
                    Workspace.Pod p1 = ws.runPod();
                    Workspace.Pod p2 = ws.runPod();
                    Map<String, String> pickA = Map.of("conformance.nodekit.dev/pick", "a");
                    String c1 = ws.create(p1, ws.containerConfig("a1", Commands.SLEEPER, pickA));
                    ws.start(c1);
                    String c2 = ws.create(p1, ws.containerConfig("b1", Commands.SLEEPER,
                            Map.of("conformance.nodekit.dev/pick", "b")));
                    String c3 = ws.create(p2, ws.containerConfig("a2", Commands.SLEEPER, pickA));
                    ws.start(c3);
                    Map<String, String> run = Map.of(Workspace.RUN_LABEL, ws.tag());
                    List<Container> all = list(t, ContainerFilter.getDefaultInstance());
                    Optional<Container> listed = all.stream().filter(c -> c.getId().equals(c1)).findFirst();
                    that(listed.isPresent(), "unfiltered ListContainers (%d containers) lacks %s", all.size(),
                            Workspace.shortId(c1));
                    equal(p1.id(), listed.get().getPodSandboxId(), "pod_sandbox_id of the listed container");
                    equal("a1", listed.get().getMetadata().getName(), "metadata.name of the listed container");
                    expectIds(t, ContainerFilter.newBuilder().setId(c1).build(), Set.of(c1), "filter id");
                    expectIds(t, ContainerFilter.newBuilder().setPodSandboxId(p1.id()).build(), Set.of(c1, c2),
                            "filter pod_sandbox_id");
                    expectIds(t, ContainerFilter.newBuilder().putAllLabelSelector(run).build(), Set.of(c1, c2, c3),
                            "filter labels " + run);
                    expectIds(t, ContainerFilter.newBuilder().putAllLabelSelector(run).putAllLabelSelector(pickA).build(),
                            Set.of(c1, c3), "filter labels " + run + " + pick=a (requirements are ANDed)");
                    expectIds(t, ContainerFilter.newBuilder().putAllLabelSelector(run)
                            .setState(state(ContainerState.CONTAINER_RUNNING)).build(), Set.of(c1, c3), "filter state RUNNING");
                    expectIds(t, ContainerFilter.newBuilder().putAllLabelSelector(run)
                            .setState(state(ContainerState.CONTAINER_CREATED)).build(), Set.of(c2), "filter state CREATED");
                    expectIds(t, ContainerFilter.newBuilder().setPodSandboxId(p2.id()).putAllLabelSelector(pickA).build(),
                            Set.of(c3), "filter pod_sandbox_id + label");
                    expectIds(t, ContainerFilter.newBuilder().setId(c2)
                            .setState(state(ContainerState.CONTAINER_RUNNING)).build(), Set.of(), "filter id + other state");
                }));
        b.check("cri.container.exit-code", "CRI v1 ContainerStatus",
                "a container that exits by itself is EXITED with its exit code and a finish time",
                Workspace.with("container-exit", (t, ws) -> {
                    ws.requireImage();
                    String id = ws.run(ws.runPod(), "exits", Commands.exitWith(3));
                    ContainerStatus s = ws.awaitState(id, ContainerState.CONTAINER_EXITED, SETTLE);
                    equal(3, s.getExitCode(), "exit code of 'sh -c \"exit 3\"'");
                    // Not ">= started_at": containerd 1.6 stamps started_at when StartContainer returns and
                    // finished_at from the shim's exit event, which for an instant exit can come first (seen: 117 us).
                    that(s.getFinishedAt() > 0 && s.getFinishedAt() >= s.getCreatedAt(),
                            "finished_at %d is unset or before created_at %d", s.getFinishedAt(), s.getCreatedAt());
                }));
        b.check("cri.container.stopped-with-pod", "CRI v1 StopPodSandbox",
                "StopPodSandbox terminates the pod's running containers", Workspace.with("container-pod-stop", (t, ws) -> {
                    ws.requireImage();
                    Workspace.Pod pod = ws.runPod();
                    String id = ws.run(pod, "sleeper", Commands.SLEEPER);
                    ok("StopPodSandbox", () -> t.runtime().stopPodSandbox(
                            StopPodSandboxRequest.newBuilder().setPodSandboxId(pod.id()).build()));
                    equal(ContainerState.CONTAINER_EXITED, ws.containerStatus(id).getState(),
                            "state of a container once StopPodSandbox returned");
                }));
        b.check("cri.container.log", "CRI v1 ContainerConfig.log_path",
                "what a container writes lands in log_directory/log_path in CRI log format, per stream",
                Workspace.with("container-log", (t, ws) -> {
                    ws.requireImage();
                    Workspace.Pod pod = ws.runPod();
                    String token = Workspace.token("log");
                    ContainerConfig cfg = ws.containerConfig("logger",
                            Commands.printThenSleep(token + "-out", token + "-err"), Map.of());
                    String id = ws.create(pod, cfg);
                    ws.start(id);
                    Path file = Path.of(pod.config().getLogDirectory()).resolve(cfg.getLogPath());
                    List<LogLine> lines = awaitLog(file, List.of(new LogLine("stdout", true, token + "-out"),
                            new LogLine("stderr", true, token + "-err")));
                    that(!lines.isEmpty(), "no log lines");
                    String logPath = ws.containerStatus(id).getLogPath();
                    that(logPath.equals(file.toString()) || logPath.equals(cfg.getLogPath()),
                            "ContainerStatus.log_path is '%s', expected %s (or %s relative to the pod's log_directory)",
                            logPath, file, cfg.getLogPath());
                }));
    }

    /** A parsed CRI log line (time checked on parse). */
    record LogLine(String stream, boolean full, String content) {
    }

    /** Parses one CRI log line; throws naming the line when it is not in the format. */
    static LogLine parseLogLine(String line) {
        Matcher m = LOG_LINE.matcher(line);
        if (!m.matches()) {
            throw new CheckFailed("log line is not '<RFC3339 time> stdout|stderr F|P <content>': \""
                    + StreamProtocol.abbreviate(line) + "\"");
        }
        try {
            OffsetDateTime.parse(m.group(1));
        } catch (DateTimeParseException e) {
            throw new CheckFailed("log line time '" + m.group(1) + "' is not RFC 3339: \"" + line + "\"");
        }
        return new LogLine(m.group(2), m.group(3).equals("F"), m.group(4));
    }

    /** Waits until every line in {@code want} is in the log file; every line there must be well formed. */
    static List<LogLine> awaitLog(Path file, List<LogLine> want) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (true) {
            Optional<List<LogLine>> found = readLog(file);
            if (found.isPresent() && found.get().containsAll(want)) {
                return found.get();
            }
            for (LogLine w : want) {
                for (LogLine l : found.orElse(List.of())) {
                    that(!l.content().equals(w.content()) || l.stream().equals(w.stream()),
                            "'%s' was written to %s but logged as %s", w.content(), w.stream(), l.stream());
                }
            }
            if (System.nanoTime() > deadline) {
                if (found.isEmpty()) {
                    throw new CheckFailed("log file " + file + " was never created");
                }
                throw new CheckFailed("log file " + file + " lacks " + want.stream()
                        .filter(w -> !found.get().contains(w)).toList() + " after " + SETTLE.toSeconds()
                        + " s; it has " + found.get());
            }
            Thread.sleep(100);
        }
    }

    private static Optional<List<LogLine>> readLog(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        // The runtime may be writing right now: a last line without its newline is not complete yet.
        int end = text.lastIndexOf('\n');
        List<LogLine> lines = new ArrayList<>();
        for (String l : text.substring(0, end + 1).split("\n")) {
            if (!l.isEmpty()) {
                lines.add(parseLogLine(l));
            }
        }
        return Optional.of(lines);
    }

    static ContainerStateValue state(ContainerState s) {
        return ContainerStateValue.newBuilder().setState(s).build();
    }

    static List<Container> list(CriTarget t, ContainerFilter filter) {
        return ok("ListContainers", () -> t.runtime().listContainers(
                ListContainersRequest.newBuilder().setFilter(filter).build())).getContainersList();
    }

    static void expectIds(CriTarget t, ContainerFilter filter, Set<String> expected, String what) {
        Set<String> got = new TreeSet<>();
        list(t, filter).forEach(c -> got.add(c.getId()));
        that(got.equals(new TreeSet<>(expected)), "ListContainers %s: expected %s, got %s", what,
                SandboxChecks.shorten(expected), SandboxChecks.shorten(got));
    }
}
