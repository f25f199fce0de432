package dev.nodekit.common.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.common.util.concurrent.ListenableFuture;

import dev.nodekit.spec.csi.v1.GetPluginInfoRequest;
import dev.nodekit.spec.csi.v1.IdentityGrpc;
import dev.nodekit.spec.csi.v1.ProbeRequest;
import dev.nodekit.spec.csi.v1.ProbeResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Graceful shutdown as kubelet triggers it: SIGTERM to a separate JVM serving on a real socket.
 * {@link Process#destroy()} sends SIGTERM on Linux; the child's shutdown hook must drain.
 */
class UdsServerShutdownTest {
    @TempDir
    Path dir;

    private Child child;
    private ManagedChannel channel;

    @AfterEach
    void cleanup() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (child != null && child.process.isAlive()) {
            child.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void sigtermLetsTheInFlightCallFinishRefusesNewCallsAndExitsWithoutTheSocket() throws Exception {
        Path socket = dir.resolve("child.sock");
        long graceMs = 20_000;
        child = Child.start(socket, graceMs, 60_000, dir.resolve("child.log"));
        channel = UdsChannels.forTarget("unix://" + socket);
        assertThat(getPluginInfo(channel)).as(child.diagnostics()).isEqualTo(Status.Code.OK);

        ListenableFuture<ProbeResponse> inFlight = IdentityGrpc.newFutureStub(channel).probe(ProbeRequest.getDefaultInstance());
        child.awaitLine("IN-FLIGHT");
        long t0 = System.nanoTime();
        child.process.destroy(); // SIGTERM

        // New calls are refused while the old one still runs: on a fresh connection and on the existing one.
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(20))
                .until(() -> getPluginInfoOnNewChannel(socket) == Status.Code.UNAVAILABLE);
        long refusedMs = ms(t0);
        assertThat(getPluginInfo(channel)).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(child.process.isAlive()).as(child.diagnostics()).isTrue();
        assertThat(inFlight.isDone()).as("the in-flight call must still be running").isFalse();

        Files.createFile(UdsServerChild.releaseFile(socket)); // let the handler answer
        long releasedMs = ms(t0);
        ProbeResponse r = inFlight.get(15, TimeUnit.SECONDS);
        assertThat(r.getReady().getValue()).isTrue();

        assertThat(child.process.waitFor(15, TimeUnit.SECONDS)).as(child.diagnostics()).isTrue();
        long exitedMs = ms(t0);
        assertThat(child.process.exitValue()).as(child.diagnostics()).isEqualTo(128 + 15);
        assertThat(socket).doesNotExist();
        // It exited once the call was done, not when the grace period ran out.
        assertThat(exitedMs).isLessThan(graceMs);
        assertThat(child.diagnostics()).contains("gRPC server stopped", "drained=true");
        System.out.printf("drain: refused_new_calls_after_ms=%d released_at_ms=%d exited_ms=%d (exit %d ms after release)%n",
                refusedMs, releasedMs, exitedMs, exitedMs - releasedMs);
    }

    @Test
    void aCallOutlastingTheGracePeriodIsCancelledAndTheChildStillExits() throws Exception {
        Path socket = dir.resolve("child.sock");
        long graceMs = 700;
        long probeMs = 30_000;
        child = Child.start(socket, graceMs, probeMs, dir.resolve("child.log"));
        channel = UdsChannels.forTarget("unix://" + socket);

        ListenableFuture<ProbeResponse> inFlight = IdentityGrpc.newFutureStub(channel).probe(ProbeRequest.getDefaultInstance());
        child.awaitLine("IN-FLIGHT");
        long t0 = System.nanoTime();
        child.process.destroy();

        assertThatThrownBy(() -> inFlight.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                        .isIn(Status.Code.CANCELLED, Status.Code.UNAVAILABLE));
        long cancelledMs = ms(t0);
        assertThat(child.process.waitFor(10, TimeUnit.SECONDS)).as(child.diagnostics()).isTrue();
        long exitedMs = ms(t0);
        assertThat(cancelledMs).isGreaterThanOrEqualTo(graceMs - 50);
        // grace + the bounded wind-down (about 3 s at most) + slack for a loaded machine,
        // far below the 30 s the handler wanted
        assertThat(exitedMs).as(child.diagnostics()).isLessThan(graceMs + 10_000);
        assertThat(socket).doesNotExist();
        assertThat(child.diagnostics()).contains("did not finish within the grace period");
        System.out.printf("cancel: grace_ms=%d call_failed_ms=%d exited_ms=%d%n", graceMs, cancelledMs, exitedMs);
    }

    private static long ms(long t0) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    private static Status.Code getPluginInfo(ManagedChannel c) {
        try {
            // Generous: the first call to a cold child JVM on a loaded machine takes seconds.
            IdentityGrpc.newBlockingStub(c).withDeadlineAfter(20, TimeUnit.SECONDS)
                    .getPluginInfo(GetPluginInfoRequest.getDefaultInstance());
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    private static Status.Code getPluginInfoOnNewChannel(Path socket) throws InterruptedException {
        ManagedChannel c = UdsChannels.forTarget("unix://" + socket);
        try {
            return getPluginInfo(c);
        } finally {
            c.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
        }
    }

    /** The child JVM, its stdout lines, and its stderr (the log) in a file for failure messages. */
    private static final class Child {
        final Process process;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final Path log;

        private Child(Process process, Path log) {
            this.process = process;
            this.log = log;
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    lines.add("<stdout closed: " + e + ">");
                }
            }, "child-stdout");
            reader.setDaemon(true);
            reader.start();
        }

        static Child start(Path socket, long graceMs, long probeMs, Path log) throws Exception {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            ProcessBuilder pb = new ProcessBuilder(List.of(java,
                    "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
                    "-cp", System.getProperty("java.class.path"),
                    UdsServerChild.class.getName(), socket.toString(), Long.toString(graceMs), Long.toString(probeMs)));
            pb.environment().put("NODEKIT_LOG_LEVEL", "INFO");
            pb.redirectError(log.toFile());
            Child c = new Child(pb.start(), log);
            c.awaitLine("READY");
            return c;
        }

        void awaitLine(String expected) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                String line = lines.poll(100, TimeUnit.MILLISECONDS);
                if (expected.equals(line)) {
                    return;
                }
                if (line == null && !process.isAlive()) {
                    break;
                }
            }
            throw new AssertionError("child never printed " + expected + "\n" + diagnostics());
        }

        String diagnostics() {
            try {
                return "child log:\n" + (Files.exists(log) ? Files.readString(log) : "<none>");
            } catch (IOException e) {
                return "child log unreadable: " + e;
            }
        }
    }
}
