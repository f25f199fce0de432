package dev.nodekit.conformance.cri;

import static dev.nodekit.conformance.Expect.equal;
import static dev.nodekit.conformance.Expect.ok;
import static dev.nodekit.conformance.Expect.that;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import dev.nodekit.conformance.Expect;
import dev.nodekit.conformance.Suite;
import dev.nodekit.spec.cri.v1.ExecSyncResponse;
import dev.nodekit.spec.cri.v1.ListPodSandboxRequest;
import dev.nodekit.spec.cri.v1.PodSandbox;
import dev.nodekit.spec.cri.v1.PodSandboxConfig;
import dev.nodekit.spec.cri.v1.PodSandboxFilter;
import dev.nodekit.spec.cri.v1.PodSandboxState;
import dev.nodekit.spec.cri.v1.PodSandboxStateValue;
import dev.nodekit.spec.cri.v1.PodSandboxStatus;
import dev.nodekit.spec.cri.v1.PodSandboxStatusRequest;
import dev.nodekit.spec.cri.v1.RemovePodSandboxRequest;
import dev.nodekit.spec.cri.v1.StopPodSandboxRequest;
import io.grpc.Status;

/** Pod sandbox checks: run and status, list filters, stop and remove and their idempotency, hostname. */
final class SandboxChecks {
    private static final Pattern IP_LITERAL = Pattern.compile("[0-9a-fA-F.:]+");
    /** How far created_at may be from this host's clock (the runtime runs on the same host). */
    private static final long CLOCK_SLACK_NANOS = TimeUnit.MINUTES.toNanos(5);

    private SandboxChecks() {
    }

    static void addTo(Suite.Builder<CriTarget> b) {
        b.check("cri.sandbox.run", "CRI v1 RunPodSandbox, PodSandboxStatus",
                "a new pod is READY with its metadata, labels, annotations, a creation time and an IP",
                Workspace.with("sandbox-run", (t, ws) -> {
                    PodSandboxConfig cfg = ws.podConfig(Map.of());
                    Workspace.Pod pod = ws.runPod(cfg);
                    PodSandboxStatus s = ws.podStatus(pod.id());
                    equal(pod.id(), s.getId(), "PodSandboxStatus.id");
                    equal(PodSandboxState.SANDBOX_READY, s.getState(), "state of a pod after RunPodSandbox");
                    equal(cfg.getMetadata(), s.getMetadata(), "PodSandboxStatus.metadata");
                    that(s.getLabelsMap().entrySet().containsAll(cfg.getLabelsMap().entrySet()),
                            "PodSandboxStatus.labels %s lack some of %s", s.getLabelsMap(), cfg.getLabelsMap());
                    that(s.getAnnotationsMap().entrySet().containsAll(cfg.getAnnotationsMap().entrySet()),
                            "PodSandboxStatus.annotations %s lack some of %s", s.getAnnotationsMap(),
                            cfg.getAnnotationsMap());
                    long now = System.currentTimeMillis() * 1_000_000L;
                    that(Math.abs(now - s.getCreatedAt()) < CLOCK_SLACK_NANOS,
                            "created_at %d is not a time in nanoseconds near now (%d)", s.getCreatedAt(), now);
                    String ip = s.getNetwork().getIp();
                    that(!ip.isEmpty(), "a pod with its own network namespace has no IP (is a CNI config in place? "
                            + "Status NetworkReady says whether the runtime has one)");
                    that(isIpLiteral(ip), "network.ip '%s' is not an IP address", ip);
                    if (!t.config().runtimeHandler().isEmpty()) {
                        equal(t.config().runtimeHandler(), s.getRuntimeHandler(), "PodSandboxStatus.runtime_handler");
                    }
                }));
        b.check("cri.sandbox.list-filters", "CRI v1 ListPodSandbox",
                "ListPodSandbox filters by id, by label selector and by state, and lists without a filter",
                Workspace.with("sandbox-list", (t, ws) -> {
                    String a = ws.runPod(Map.of("conformance.nodekit.dev/pick", "a")).id();
                    String c = ws.runPod(Map.of("conformance.nodekit.dev/pick", "b")).id();
                    Map<String, String> run = Map.of(Workspace.RUN_LABEL, ws.tag());
                    Set<String> all = ids(t, PodSandboxFilter.getDefaultInstance());
                    that(all.contains(a) && all.contains(c), "unfiltered ListPodSandbox lacks the check's pods %s",
                            missing(all, a, c));
                    expectIds(t, PodSandboxFilter.newBuilder().setId(a).build(), Set.of(a), "filter id=" + a);
                    expectIds(t, PodSandboxFilter.newBuilder().putAllLabelSelector(run).build(), Set.of(a, c),
                            "filter labels " + run);
                    expectIds(t, PodSandboxFilter.newBuilder().putAllLabelSelector(run)
                            .putLabelSelector("conformance.nodekit.dev/pick", "a").build(), Set.of(a),
                            "filter labels " + run + " + pick=a (requirements are ANDed)");
                    ok("StopPodSandbox", () -> t.runtime().stopPodSandbox(
                            StopPodSandboxRequest.newBuilder().setPodSandboxId(c).build()));
                    expectIds(t, PodSandboxFilter.newBuilder().putAllLabelSelector(run)
                            .setState(state(PodSandboxState.SANDBOX_READY)).build(), Set.of(a), "filter state READY");
                    expectIds(t, PodSandboxFilter.newBuilder().putAllLabelSelector(run)
                            .setState(state(PodSandboxState.SANDBOX_NOTREADY)).build(), Set.of(c),
                            "filter state NOTREADY");
                    expectIds(t, PodSandboxFilter.newBuilder().setId(a)
                            .setState(state(PodSandboxState.SANDBOX_NOTREADY)).build(), Set.of(),
                            "filter id=" + a + " + state NOTREADY");
                }));
        b.check("cri.sandbox.stop", "CRI v1 StopPodSandbox",
                "a stopped pod is NOTREADY; stopping it again succeeds (kubelet stops pods more than once)",
                Workspace.with("sandbox-stop", (t, ws) -> {
                    String id = ws.runPod().id();
                    for (int i = 1; i <= 2; i++) {
                        int n = i;
                        ok("StopPodSandbox call " + n, () -> t.runtime().stopPodSandbox(
                                StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build()));
                        equal(PodSandboxState.SANDBOX_NOTREADY, ws.podStatus(id).getState(),
                                "state after StopPodSandbox call " + n);
                    }
                }));
        b.check("cri.sandbox.remove", "CRI v1 RemovePodSandbox",
                "a removed pod is gone (status NOT_FOUND, not listed); removing it again succeeds",
                Workspace.with("sandbox-remove", (t, ws) -> {
                    String id = ws.runPod().id();
                    ok("StopPodSandbox", () -> t.runtime().stopPodSandbox(
                            StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build()));
                    ok("RemovePodSandbox", () -> t.runtime().removePodSandbox(
                            RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build()));
                    Expect.status(Status.Code.NOT_FOUND, "PodSandboxStatus of a removed pod", () -> t.runtime()
                            .podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(id).build()));
                    expectIds(t, PodSandboxFilter.newBuilder().setId(id).build(), Set.of(), "filter id of a removed pod");
                    ok("RemovePodSandbox of an already removed pod", () -> t.runtime().removePodSandbox(
                            RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build()));
                }));
        b.check("cri.sandbox.hostname", "CRI v1 PodSandboxConfig.hostname",
                "a container sees the hostname its pod was given", Workspace.with("sandbox-hostname", (t, ws) -> {
                    ws.requireImage();
                    Workspace.Pod pod = ws.runPod();
                    String c = ws.run(pod, "sleeper", Commands.SLEEPER);
                    ExecSyncResponse r = ws.execSync(c, List.of("hostname"), 10);
                    equal(0, r.getExitCode(), "exit code of hostname (stderr: " + r.getStderr().toStringUtf8().strip() + ")");
                    equal(pod.config().getHostname(), r.getStdout().toStringUtf8().strip(), "hostname in the container");
                }));
    }

    static PodSandboxStateValue state(PodSandboxState s) {
        return PodSandboxStateValue.newBuilder().setState(s).build();
    }

    static Set<String> ids(CriTarget t, PodSandboxFilter filter) {
        List<PodSandbox> items = ok("ListPodSandbox", () -> t.runtime().listPodSandbox(
                ListPodSandboxRequest.newBuilder().setFilter(filter).build())).getItemsList();
        Set<String> out = new TreeSet<>();
        items.forEach(p -> out.add(p.getId()));
        return out;
    }

    static void expectIds(CriTarget t, PodSandboxFilter filter, Set<String> expected, String what) {
        Set<String> got = ids(t, filter);
        that(got.equals(new TreeSet<>(expected)), "ListPodSandbox %s: expected %s, got %s", what, shorten(expected),
                shorten(got));
    }

    static List<String> shorten(Set<String> ids) {
        return ids.stream().map(Workspace::shortId).sorted().toList();
    }

    private static List<String> missing(Set<String> have, String... want) {
        return java.util.Arrays.stream(want).filter(w -> !have.contains(w)).map(Workspace::shortId).toList();
    }

    static boolean isIpLiteral(String ip) {
        if (!IP_LITERAL.matcher(ip).matches() || !(ip.contains(".") || ip.contains(":"))) {
            return false; // never let a host name reach the resolver
        }
        try {
            InetAddress.getByName(ip);
            return true;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }
}
