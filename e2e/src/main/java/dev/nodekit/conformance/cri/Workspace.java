package dev.nodekit.conformance.cri;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;

import dev.nodekit.conformance.CheckBody;
import dev.nodekit.conformance.CheckFailed;
import dev.nodekit.conformance.CheckSkipped;
import dev.nodekit.conformance.Expect;
import dev.nodekit.spec.cri.v1.ContainerConfig;
import dev.nodekit.spec.cri.v1.ContainerMetadata;
import dev.nodekit.spec.cri.v1.ContainerState;
import dev.nodekit.spec.cri.v1.ContainerStatus;
import dev.nodekit.spec.cri.v1.ContainerStatusRequest;
import dev.nodekit.spec.cri.v1.CreateContainerRequest;
import dev.nodekit.spec.cri.v1.ExecSyncRequest;
import dev.nodekit.spec.cri.v1.ExecSyncResponse;
import dev.nodekit.spec.cri.v1.ImageSpec;
import dev.nodekit.spec.cri.v1.ImageStatusRequest;
import dev.nodekit.spec.cri.v1.ImageStatusResponse;
import dev.nodekit.spec.cri.v1.LinuxPodSandboxConfig;
import dev.nodekit.spec.cri.v1.PodSandboxConfig;
import dev.nodekit.spec.cri.v1.PodSandboxMetadata;
import dev.nodekit.spec.cri.v1.PodSandboxStatus;
import dev.nodekit.spec.cri.v1.PodSandboxStatusRequest;
import dev.nodekit.spec.cri.v1.RemovePodSandboxRequest;
import dev.nodekit.spec.cri.v1.RunPodSandboxRequest;
import dev.nodekit.spec.cri.v1.StartContainerRequest;
import dev.nodekit.spec.cri.v1.StopPodSandboxRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * What one check creates on the runtime, and its removal: pods (stopped and removed in reverse
 * order, which removes their containers), their log directories and, on cgroupfs hosts, the empty
 * pod cgroup directories (kubelet's job, which the suite does in its place). Names, uids and
 * namespaces are unique per pod, so checks never see each other's objects and reruns never clash.
 */
final class Workspace {
    /** Label on every pod and container the suite makes. */
    static final String SUITE_LABEL = "conformance.nodekit.dev/suite";
    /** Label with the check's short name and a per-workspace random part, for filter checks. */
    static final String RUN_LABEL = "conformance.nodekit.dev/run";

    /** A pod this workspace made: its id and the config it was created with (CreateContainer needs it). */
    record Pod(String id, PodSandboxConfig config) {
    }

    private final CriTarget t;
    private final String tag;
    private final List<String> pods = new ArrayList<>();
    private final List<Path> logDirs = new ArrayList<>();
    private final List<String> cgroups = new ArrayList<>();
    private int sequence;

    private Workspace(CriTarget t, String name) {
        this.t = t;
        this.tag = name + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
    }

    /** Runs {@code body} in a fresh workspace and removes what it made, even when the body failed. */
    static CheckBody<CriTarget> with(String name, WorkspaceBody body) {
        return t -> {
            Workspace ws = new Workspace(t, name);
            Throwable failure = null;
            try {
                body.run(t, ws);
            } catch (Throwable e) {
                failure = e;
                throw e;
            } finally {
                List<String> problems = ws.cleanUp();
                if (!problems.isEmpty()) {
                    CheckFailed leak = new CheckFailed("cleanup failed (the runtime kept what the check made): "
                            + String.join("; ", problems));
                    if (failure == null) {
                        throw leak;
                    }
                    failure.addSuppressed(leak);
                }
            }
        };
    }

    /** A check body that gets a workspace. */
    @FunctionalInterface
    interface WorkspaceBody {
        void run(CriTarget t, Workspace ws) throws Exception;
    }

    /** {@code <check>-<random>}: unique per workspace, usable in names and label values. */
    String tag() {
        return tag;
    }

    /** Labels every object of this workspace carries, plus {@code extra}. */
    Map<String, String> labels(Map<String, String> extra) {
        Map<String, String> l = new LinkedHashMap<>();
        l.put(SUITE_LABEL, "cri");
        l.put(RUN_LABEL, tag);
        l.putAll(extra);
        return l;
    }

    /** A pod config with a unique name, uid, namespace and hostname, the cgroup parent and a log directory. */
    PodSandboxConfig podConfig(Map<String, String> extraLabels) {
        String uid = UUID.randomUUID().toString();
        String name = tag + "-" + (++sequence);
        PodSandboxConfig.Builder b = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setUid(uid)
                        .setNamespace("nodekit-conformance-" + tag).setAttempt(0))
                .setHostname(name)
                .setLogDirectory(t.config().logRoot().resolve("nodekit-cri-" + uid).toString())
                .putAllLabels(labels(extraLabels))
                .putAnnotations("conformance.nodekit.dev/check", tag);
        LinuxPodSandboxConfig.Builder linux = LinuxPodSandboxConfig.newBuilder();
        t.config().podCgroup(uid).ifPresent(linux::setCgroupParent);
        return b.setLinux(linux).build();
    }

    /** Runs a pod from {@code config} (tracked for removal) and returns it. */
    Pod runPod(PodSandboxConfig config) throws IOException {
        Path logDir = Path.of(config.getLogDirectory());
        // kubelet creates the pod log directory before RunPodSandbox; so does the suite.
        Files.createDirectories(logDir);
        logDirs.add(logDir);
        if (config.hasLinux() && !config.getLinux().getCgroupParent().isEmpty()) {
            cgroups.add(config.getLinux().getCgroupParent());
        }
        RunPodSandboxRequest req = RunPodSandboxRequest.newBuilder().setConfig(config)
                .setRuntimeHandler(t.config().runtimeHandler()).build();
        String id = Expect.ok("RunPodSandbox", () -> t.runtime().runPodSandbox(req)).getPodSandboxId();
        Expect.that(!id.isEmpty(), "RunPodSandbox returned an empty pod_sandbox_id");
        pods.add(id);
        return new Pod(id, config);
    }

    Pod runPod(Map<String, String> extraLabels) throws IOException {
        return runPod(podConfig(extraLabels));
    }

    Pod runPod() throws IOException {
        return runPod(Map.of());
    }

    /** Fails the check (or skips it) unless the target's image is present; the suite never pulls. */
    void requireImage() {
        String image = t.config().image();
        ImageStatusResponse r = Expect.ok("ImageStatus " + image, () -> t.images().imageStatus(
                ImageStatusRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(image)).build()));
        if (!r.hasImage()) {
            throw new CheckSkipped(missingImage(image));
        }
    }

    static String missingImage(String image) {
        return "image " + image + " not present and the suite never pulls";
    }

    /** A container config named {@code name} running {@code command} from the target's image. */
    ContainerConfig containerConfig(String name, List<String> command, Map<String, String> extraLabels) {
        return ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName(name).setAttempt(0))
                .setImage(ImageSpec.newBuilder().setImage(t.config().image()))
                .addAllCommand(command)
                .setLogPath(name + ".log")
                .putAllLabels(labels(extraLabels))
                .build();
    }

    /** Creates (not starts) a container in {@code pod}. */
    String create(Pod pod, ContainerConfig config) {
        String id = Expect.ok("CreateContainer " + config.getMetadata().getName(), () -> t.runtime().createContainer(
                CreateContainerRequest.newBuilder().setPodSandboxId(pod.id()).setConfig(config)
                        .setSandboxConfig(pod.config()).build())).getContainerId();
        Expect.that(!id.isEmpty(), "CreateContainer returned an empty container_id");
        return id;
    }

    String create(Pod pod, String name, List<String> command) {
        return create(pod, containerConfig(name, command, Map.of()));
    }

    /** Starts a created container. */
    void start(String containerId) {
        Expect.ok("StartContainer", () -> t.runtime().startContainer(
                StartContainerRequest.newBuilder().setContainerId(containerId).build()));
    }

    /** Creates and starts a container and returns its id. */
    String run(Pod pod, String name, List<String> command) {
        String id = create(pod, name, command);
        start(id);
        return id;
    }

    /** A running pod with one running {@link Commands#SLEEPER} container, for exec checks. */
    String sleeper() throws IOException {
        requireImage();
        return run(runPod(), "sleeper", Commands.SLEEPER);
    }

    ContainerStatus containerStatus(String id) {
        return Expect.ok("ContainerStatus", () -> t.runtime().containerStatus(
                ContainerStatusRequest.newBuilder().setContainerId(id).build())).getStatus();
    }

    PodSandboxStatus podStatus(String id) {
        return Expect.ok("PodSandboxStatus", () -> t.runtime().podSandboxStatus(
                PodSandboxStatusRequest.newBuilder().setPodSandboxId(id).build())).getStatus();
    }

    /** Polls ContainerStatus until the container reaches {@code state}; fails after {@code timeout}. */
    ContainerStatus awaitState(String id, ContainerState state, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            ContainerStatus s = containerStatus(id);
            if (s.getState() == state) {
                return s;
            }
            if (System.nanoTime() > deadline) {
                throw new CheckFailed("container " + shortId(id) + " is " + s.getState() + " after "
                        + timeout.toMillis() + " ms, expected " + state);
            }
            Thread.sleep(50);
        }
    }

    /** ExecSync with {@code timeoutSeconds}; the call's deadline leaves room for it. */
    ExecSyncResponse execSync(String containerId, List<String> cmd, long timeoutSeconds) {
        return Expect.ok("ExecSync " + cmd, () -> t.runtime(Duration.ofSeconds(timeoutSeconds)).execSync(
                ExecSyncRequest.newBuilder().setContainerId(containerId).addAllCmd(cmd).setTimeout(timeoutSeconds)
                        .build()));
    }

    static String shortId(String id) {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }

    /** Stops and removes every pod (reverse order), then deletes log dirs and empty pod cgroups. */
    List<String> cleanUp() {
        List<String> problems = new ArrayList<>();
        for (int i = pods.size() - 1; i >= 0; i--) {
            String id = pods.get(i);
            try {
                t.runtime().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build());
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
                    problems.add("StopPodSandbox " + shortId(id) + ": " + e.getStatus());
                }
            }
            try {
                t.runtime().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build());
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
                    problems.add("RemovePodSandbox " + shortId(id) + ": " + e.getStatus());
                }
            }
        }
        for (Path d : logDirs) {
            try {
                deleteTree(d);
            } catch (IOException e) {
                problems.add("cannot delete pod log dir " + d + ": " + e.getMessage());
            }
        }
        cgroups.forEach(PodCgroups::removeIfEmpty);
        return problems;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** A random token for outputs the check then looks for. */
    static String token(String prefix) {
        return prefix + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()).toLowerCase(Locale.ROOT);
    }

    /** Applies {@code edit} to a copy of {@code config}. */
    static PodSandboxConfig edit(PodSandboxConfig config, Consumer<PodSandboxConfig.Builder> edit) {
        PodSandboxConfig.Builder b = config.toBuilder();
        edit.accept(b);
        return b.build();
    }
}
