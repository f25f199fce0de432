package dev.nodekit.crishim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.spec.cri.v1.ListContainersRequest;
import dev.nodekit.spec.cri.v1.VersionRequest;
import dev.nodekit.spec.cri.v1.VersionResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** The runtime is not there, dies, comes back: the shim keeps its socket, fails fast, recovers by itself. */
class UpstreamFailureTest {
    @TempDir
    Path dir;

    ShimHarness h;

    /** The pass-through mode under test; the gRPC-mode subclass overrides it. */
    CriShimConfig.PassThrough mode() {
        return CriShimConfig.PassThrough.FRAMES;
    }

    ShimHarness newHarness() {
        return new ShimHarness(dir, mode());
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private Duration timeUnavailable() {
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> h.runtime().withDeadlineAfter(30, TimeUnit.SECONDS)
                .version(VersionRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).contains("cri-shim: runtime 'default'")
                            .contains(h.socket("rt").toString());
                });
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    @Test
    void startsAndListensWithoutTheRuntimeAnswersUnavailableFastAndUsesTheRuntimeOnceItIsUp() throws Exception {
        h = newHarness();
        h.start(Optional.of("unix://" + h.socket("rt")), null);
        assertThat(h.socket("shim")).exists();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(h.socket("shim"))))
                .isEqualTo("rw-rw----");

        // kubelet's deadline is 2 minutes; the answer must not wait for it.
        assertThat(timeUnavailable()).isLessThan(Duration.ofSeconds(1));
        assertThat(timeUnavailable()).isLessThan(Duration.ofSeconds(1));

        FakeCri rt = h.fake("rt");
        // Well within kubelet's 30 s NotReady window, although grpc's own backoff has grown.
        long t0 = System.nanoTime();
        Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20)).ignoreExceptions()
                .until(() -> h.runtime().version(VersionRequest.getDefaultInstance()).getRuntimeName().equals("rt"));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
        assertThat(rt.received()).isNotEmpty();
    }

    @Test
    void whenTheRuntimeDiesCallsFailFastAndWhenItReturnsTheShimReconnectsByItself() throws Exception {
        h = newHarness();
        FakeCri rt = h.fake("rt");
        h.start(Optional.of(rt.endpoint()), null);
        VersionResponse v = h.runtime().version(VersionRequest.getDefaultInstance());
        assertThat(v.getRuntimeName()).isEqualTo("rt");

        for (int round = 0; round < 3; round++) {
            rt.stop();
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> {
                try {
                    h.runtime().listContainers(ListContainersRequest.getDefaultInstance());
                    return false;
                } catch (StatusRuntimeException e) {
                    return e.getStatus().getCode() == Status.Code.UNAVAILABLE;
                }
            });
            assertThat(timeUnavailable()).isLessThan(Duration.ofSeconds(1));
            assertThat(h.socket("shim")).exists();

            rt.listen();
            long t0 = System.nanoTime();
            Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20)).ignoreExceptions()
                    .until(() -> h.runtime().version(VersionRequest.getDefaultInstance()).getRuntimeName().equals("rt"));
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("recovery in round " + round)
                    .isLessThan(Duration.ofSeconds(2));
        }
        assertThat(h.shim.upstreams().get(0).isUp()).isTrue();
    }

    @Test
    void closingTheShimLetsAnInFlightCallFinishThenRemovesTheSocket() throws Exception {
        h = newHarness();
        FakeCri rt = h.fake("rt");
        rt.on(dev.nodekit.crishim.api.CriMethods.LIST_CONTAINERS, r -> FakeCri.Reply
                .ok(dev.nodekit.spec.cri.v1.ListContainersResponse.getDefaultInstance()).withDelay(Duration.ofMillis(500)));
        h.start(Optional.of(rt.endpoint()), null);
        var inFlight = java.util.concurrent.CompletableFuture.supplyAsync(() ->
                h.runtime().listContainers(ListContainersRequest.getDefaultInstance()));
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !rt.received().isEmpty());
        h.shim.close();
        assertThat(inFlight.get(5, TimeUnit.SECONDS).getContainersCount()).isZero();
        assertThat(h.socket("shim")).doesNotExist();
        assertThat(h.shim.awaitTermination(Duration.ofSeconds(1))).isTrue();
    }
}
