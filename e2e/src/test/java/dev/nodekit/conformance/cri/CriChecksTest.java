package dev.nodekit.conformance.cri;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.conformance.Check;
import dev.nodekit.conformance.CheckResult;
import dev.nodekit.conformance.Outcome;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.SuiteRunner;
import dev.nodekit.spec.cri.v1.ContainerFilter;
import dev.nodekit.spec.cri.v1.ContainerState;
import dev.nodekit.spec.cri.v1.ImageFsInfoResponse;
import dev.nodekit.spec.cri.v1.PodSandboxFilter;
import dev.nodekit.spec.cri.v1.PodSandboxNetworkStatus;
import dev.nodekit.spec.cri.v1.PodSandboxState;
import dev.nodekit.spec.cri.v1.VersionResponse;
import io.grpc.Status;

/**
 * Every CRI check passes on a healthy fake runtime and fails when the fake breaks the rule the check
 * enforces (one defect at a time), with a reason that names what was seen.
 */
class CriChecksTest {
    @TempDir
    Path dir;
    private FakeCri fake;

    @BeforeEach
    void start() throws Exception {
        Files.createDirectories(dir.resolve("work"));
        Files.createDirectories(dir.resolve("logs"));
        fake = new FakeCri(dir.resolve("work"));
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    private CheckResult run(String id) throws Exception {
        Check<CriTarget> check = CriChecks.suite().checks().stream().filter(c -> c.id().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("no check " + id));
        try (CriTarget t = fake.target(dir.resolve("logs"))) {
            return new SuiteRunner(RunOptions.defaults().withStrict(false).withCheckTimeout(Duration.ofSeconds(60)))
                    .runOne(check, t);
        }
    }

    private void assertFailsWith(String id, Consumer<FakeCri> defect, String reasonPart) throws Exception {
        defect.accept(fake);
        CheckResult r = run(id);
        assertThat(r.outcome()).as(id + " with defect, reason: " + r.reason()).isEqualTo(Outcome.FAIL);
        assertThat(r.reason()).contains(reasonPart);
    }

    @Test
    void healthyFakePassesEveryCheckAndSkipsOnlyPull() throws Exception {
        for (Check<CriTarget> c : CriChecks.suite().checks()) {
            CheckResult r = run(c.id());
            if (c.id().equals("cri.image.pull")) {
                assertThat(r.outcome()).isEqualTo(Outcome.SKIP);
                assertThat(r.reason()).isEqualTo(CriChecks.PULL_SKIP);
            } else {
                assertThat(r.outcome()).as(c.id() + ": " + r.reason()).isEqualTo(Outcome.PASS);
            }
        }
    }

    @Test
    void checksThatNeedTheImageSkipWhenItIsAbsentAndNothingIsPulled() throws Exception {
        fake.images.clear();
        Set<String> needImage = Set.of("cri.sandbox.hostname", "cri.container.lifecycle", "cri.container.log",
                "cri.exec-sync.output", "cri.stream.exec", "cri.stream.port-forward", "cri.image.status", "cri.image.list");
        for (String id : needImage) {
            CheckResult r = run(id);
            assertThat(r.outcome()).as(id + ": " + r.reason()).isEqualTo(Outcome.SKIP);
            assertThat(r.reason()).isEqualTo("image " + CriTarget.DEFAULT_IMAGE + " not present and the suite never pulls");
        }
        assertThat(run("cri.sandbox.run").outcome()).isEqualTo(Outcome.PASS);
    }

    @Test
    void checkIdsAreUniqueAndNamespaced() {
        List<String> ids = CriChecks.suite().checks().stream().map(Check::id).toList();
        assertThat(ids).doesNotHaveDuplicates().allMatch(i -> i.startsWith("cri."));
        assertThat(ids.stream().collect(Collectors.toSet())).hasSize(25);
    }

    // ---- runtime ------------------------------------------------------------------------------------

    @Test
    void versionWithEmptyRuntimeName() throws Exception {
        assertFailsWith("cri.runtime.version", f -> f.version = () -> VersionResponse.newBuilder().setVersion("0.1.0")
                .setRuntimeVersion("1").setRuntimeApiVersion("v1").build(), "[runtime_name] empty");
    }

    @Test
    void versionWithOldApi() throws Exception {
        assertFailsWith("cri.runtime.version", f -> f.version = () -> VersionResponse.newBuilder().setVersion("0.1.0")
                .setRuntimeName("x").setRuntimeVersion("1").setRuntimeApiVersion("v1alpha2").build(), "v1alpha2");
    }

    @Test
    void statusWithoutNetworkReady() throws Exception {
        assertFailsWith("cri.runtime.status-conditions",
                f -> f.conditions = List.of(FakeCri.condition("RuntimeReady", true)), "no NetworkReady condition");
    }

    @Test
    void statusRuntimeNotReady() throws Exception {
        assertFailsWith("cri.runtime.status-conditions", f -> f.conditions = List.of(
                FakeCri.condition("RuntimeReady", false), FakeCri.condition("NetworkReady", true)),
                "RuntimeReady is false: reason 'FakeNotReady'");
    }

    @Test
    void verboseStatusWithoutInfo() throws Exception {
        assertFailsWith("cri.runtime.status-verbose", f -> f.verboseStatusWithoutInfo = true, "returned no info");
    }

    @Test
    void quietStatusWithInfo() throws Exception {
        assertFailsWith("cri.runtime.status-verbose", f -> f.quietStatusWithInfo = true, "verbose=false) returned info");
    }

    // ---- sandbox ------------------------------------------------------------------------------------

    @Test
    void podWithoutIp() throws Exception {
        assertFailsWith("cri.sandbox.run", f -> f.podStatusHook = s -> s.toBuilder()
                .setNetwork(PodSandboxNetworkStatus.getDefaultInstance()).build(), "has no IP");
    }

    @Test
    void podNotReadyAfterRun() throws Exception {
        assertFailsWith("cri.sandbox.run", f -> f.podStatusHook = s -> s.toBuilder()
                .setState(PodSandboxState.SANDBOX_NOTREADY).build(), "state of a pod after RunPodSandbox");
    }

    @Test
    void podMetadataNotEchoed() throws Exception {
        assertFailsWith("cri.sandbox.run", f -> f.podStatusHook = s -> s.toBuilder()
                .setMetadata(s.getMetadata().toBuilder().clearUid()).build(), "PodSandboxStatus.metadata");
    }

    @Test
    void listPodSandboxIgnoresIdFilter() throws Exception {
        assertFailsWith("cri.sandbox.list-filters", f -> f.podFilterHook = x -> x.toBuilder().clearId().build(),
                "ListPodSandbox filter id=");
    }

    @Test
    void listPodSandboxIgnoresLabelSelector() throws Exception {
        assertFailsWith("cri.sandbox.list-filters", f -> f.podFilterHook = x -> x.toBuilder().clearLabelSelector().build(),
                "ListPodSandbox filter labels");
    }

    @Test
    void listPodSandboxIgnoresState() throws Exception {
        assertFailsWith("cri.sandbox.list-filters", f -> f.podFilterHook = x -> x.toBuilder().clearState().build(),
                "filter state READY");
    }

    @Test
    void stopPodNotIdempotent() throws Exception {
        assertFailsWith("cri.sandbox.stop", f -> f.stopPodFailsWhenRepeated = true,
                "StopPodSandbox call 2: expected OK, got FAILED_PRECONDITION");
    }

    @Test
    void removedPodStillFound() throws Exception {
        assertFailsWith("cri.sandbox.remove", f -> f.removedPodStillFound = true,
                "PodSandboxStatus of a removed pod: expected NOT_FOUND but the call succeeded");
    }

    @Test
    void removePodNotIdempotent() throws Exception {
        assertFailsWith("cri.sandbox.remove", f -> f.removePodFailsWhenRepeated = true,
                "already removed pod: expected OK, got NOT_FOUND");
    }

    @Test
    void wrongHostnameInContainer() throws Exception {
        assertFailsWith("cri.sandbox.hostname", f -> f.hostnameOverride = java.util.Optional.of("the-node"),
                "hostname in the container");
    }

    // ---- containers ---------------------------------------------------------------------------------

    @Test
    void containerStaysCreatedAfterStart() throws Exception {
        assertFailsWith("cri.container.lifecycle", f -> f.containerStatusHook = s -> s.getState()
                == ContainerState.CONTAINER_RUNNING ? s.toBuilder().setState(ContainerState.CONTAINER_CREATED).build() : s,
                "state after StartContainer: expected CONTAINER_RUNNING, got CONTAINER_CREATED");
    }

    @Test
    void stoppedContainerReportsWrongExitCode() throws Exception {
        assertFailsWith("cri.container.lifecycle", f -> f.containerStatusHook = s -> s.getState()
                == ContainerState.CONTAINER_EXITED ? s.toBuilder().setExitCode(137).build() : s,
                "exit code of a container that exits 0 on SIGTERM");
    }

    @Test
    void stopNeverKillsAContainerThatIgnoresTerm() throws Exception {
        // The fake's "container" is a host process that dies on TERM; the defect is the missing KILL,
        // so make TERM ineffective too by reporting the state the runtime would then report.
        assertFailsWith("cri.container.stop-timeout", f -> {
            f.stopContainerNeverKills = true;
            f.containerStatusHook = s -> s.getState() == ContainerState.CONTAINER_EXITED
                    ? s.toBuilder().setState(ContainerState.CONTAINER_RUNNING).build() : s;
        }, "state after StopContainer returned: expected CONTAINER_EXITED, got CONTAINER_RUNNING");
    }

    @Test
    void killedContainerReportsExitZero() throws Exception {
        assertFailsWith("cri.container.stop-timeout", f -> f.containerStatusHook = s -> s.getState()
                == ContainerState.CONTAINER_EXITED ? s.toBuilder().setExitCode(0).build() : s, "reports exit code 0");
    }

    @Test
    void removeContainerNotIdempotent() throws Exception {
        assertFailsWith("cri.container.remove", f -> f.removeContainerFailsWhenRepeated = true,
                "RemoveContainer call 2 (already removed): expected OK, got NOT_FOUND");
    }

    @Test
    void removeRunningContainerRefused() throws Exception {
        assertFailsWith("cri.container.remove", f -> f.removeRunningContainerRefused = true,
                "RemoveContainer call 1 (container running): expected OK, got FAILED_PRECONDITION");
    }

    @Test
    void listContainersIgnoresLabelSelector() throws Exception {
        assertFailsWith("cri.container.list-filters", f -> f.containerFilterHook = x -> x.toBuilder()
                .clearLabelSelector().build(), "ListContainers filter labels");
    }

    @Test
    void listContainersIgnoresPod() throws Exception {
        assertFailsWith("cri.container.list-filters", f -> f.containerFilterHook = x -> x.toBuilder()
                .clearPodSandboxId().build(), "ListContainers filter pod_sandbox_id");
    }

    @Test
    void listContainersIgnoresState() throws Exception {
        assertFailsWith("cri.container.list-filters", f -> f.containerFilterHook = x -> x.toBuilder()
                .clearState().build(), "filter state RUNNING");
    }

    @Test
    void listContainersIgnoresEverything() throws Exception {
        assertFailsWith("cri.container.list-filters", f -> f.containerFilterHook = x -> ContainerFilter.getDefaultInstance(),
                "ListContainers filter id");
    }

    @Test
    void exitCodeLost() throws Exception {
        assertFailsWith("cri.container.exit-code", f -> f.containerStatusHook = s -> s.toBuilder().setExitCode(0).build(),
                "exit code of 'sh -c \"exit 3\"': expected 3, got 0");
    }

    @Test
    void finishTimeUnset() throws Exception {
        assertFailsWith("cri.container.exit-code", f -> f.containerStatusHook = s -> s.toBuilder().setFinishedAt(0).build(),
                "finished_at 0 is unset");
    }

    @Test
    void podStopLeavesContainersRunning() throws Exception {
        assertFailsWith("cri.container.stopped-with-pod", f -> f.stopPodLeavesContainersRunning = true,
                "expected CONTAINER_EXITED, got CONTAINER_RUNNING");
    }

    @Test
    void logLinesWithoutStreamTag() throws Exception {
        assertFailsWith("cri.container.log", f -> f.logLineHook = l -> l.replaceFirst(" (stdout|stderr) F ", " "),
                "log line is not");
    }

    @Test
    void logNotWritten() throws Exception {
        assertFailsWith("cri.container.log", f -> f.logLineHook = l -> null, "was never created");
    }

    @Test
    void logWithStreamsSwapped() throws Exception {
        assertFailsWith("cri.container.log", f -> f.logLineHook = l -> l.contains(" stdout ")
                ? l.replace(" stdout ", " stderr ") : l.replace(" stderr ", " stdout "), "was written to stdout but logged as stderr");
    }

    // ---- exec ---------------------------------------------------------------------------------------

    @Test
    void execSyncWrongExitCode() throws Exception {
        assertFailsWith("cri.exec-sync.output", f -> f.execSyncExitCode = c -> c == 0 ? 0 : 1,
                "ExecSync exit code of a command that exits 7: expected 7, got 1");
    }

    @Test
    void execSyncMergesStderr() throws Exception {
        assertFailsWith("cri.exec-sync.output", f -> f.execSyncMergesStderr = true, "ExecSync stdout");
    }

    @Test
    void execSyncTimeoutAsUnknown() throws Exception {
        assertFailsWith("cri.exec-sync.timeout", f -> f.execSyncTimeoutCode = Status.Code.UNKNOWN,
                "expected DEADLINE_EXCEEDED, got UNKNOWN");
    }

    @Test
    void execSyncTimeoutLeavesProcessRunning() throws Exception {
        assertFailsWith("cri.exec-sync.timeout", f -> f.execSyncLeavesTimedOutProcess = true, "still runs in the container");
    }

    @Test
    void execStreamWithWrongExitCode() throws Exception {
        assertFailsWith("cri.stream.exec", f -> f.streamExitCode = c -> c == 0 ? 0 : c + 1,
                "exit code through the Exec URL vs ExecSync: expected 5, got 6");
    }

    @Test
    void execStreamWithoutStatus() throws Exception {
        assertFailsWith("cri.stream.exec", f -> f.streamOmitsStatus = true, "closed without a status on channel 3");
    }

    @Test
    void attachOnTheWrongChannel() throws Exception {
        assertFailsWith("cri.stream.attach", f -> f.attachSendsStdoutOnStderr = true, "never carried the container's output");
    }

    @Test
    void portForwardWithoutPortPrefix() throws Exception {
        assertFailsWith("cri.stream.port-forward", f -> f.portForwardWithoutPortPrefix = true,
                "data channel announced port");
    }

    @Test
    void portForwardToTheWrongPort() throws Exception {
        assertFailsWith("cri.stream.port-forward", f -> f.portForwardPortOffset = 1,
                "error channel reported: error forwarding port 8081");
    }

    // ---- images -------------------------------------------------------------------------------------

    @Test
    void imageWithoutSize() throws Exception {
        assertFailsWith("cri.image.status", f -> f.imageHook = i -> i.toBuilder().setSize(0).build(), "size is 0");
    }

    @Test
    void imageWithoutItsName() throws Exception {
        assertFailsWith("cri.image.status", f -> f.imageHook = i -> i.toBuilder().clearRepoTags().build(),
                "lists neither the name");
    }

    @Test
    void absentImageIsAnError() throws Exception {
        assertFailsWith("cri.image.status-absent", f -> f.absentImageIsNotFound = true, "expected OK, got NOT_FOUND");
    }

    @Test
    void listImagesOmitsTheImage() throws Exception {
        assertFailsWith("cri.image.list", f -> f.listImagesOmitsTarget = true, "does not contain");
    }

    @Test
    void noImageFilesystems() throws Exception {
        assertFailsWith("cri.image.fs-info", f -> f.fsInfo = ImageFsInfoResponse::getDefaultInstance,
                "returned no image_filesystems");
    }

    @Test
    void imageFilesystemWithoutMountpoint() throws Exception {
        assertFailsWith("cri.image.fs-info", f -> f.fsInfo = () -> ImageFsInfoResponse.newBuilder()
                .addImageFilesystems(dev.nodekit.spec.cri.v1.FilesystemUsage.newBuilder().setTimestamp(1)).build(),
                "without mountpoint");
    }

    @Test
    void podFilterDefectsOnlyAffectFilters() {
        // guard: the hooks used above are identity by default
        assertThat(fake.podFilterHook.apply(PodSandboxFilter.newBuilder().setId("x").build()).getId()).isEqualTo("x");
    }
}
