package dev.nodekit.conformance.cri;

import static dev.nodekit.conformance.Expect.equal;
import static dev.nodekit.conformance.Expect.ok;
import static dev.nodekit.conformance.Expect.that;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import dev.nodekit.conformance.CheckFailed;
import dev.nodekit.conformance.Expect;
import dev.nodekit.conformance.Suite;
import dev.nodekit.conformance.cri.StreamProtocol.ExecResult;
import dev.nodekit.conformance.cri.StreamProtocol.Frame;
import dev.nodekit.conformance.cri.StreamProtocol.ProtocolException;
import dev.nodekit.spec.cri.v1.AttachRequest;
import dev.nodekit.spec.cri.v1.ExecRequest;
import dev.nodekit.spec.cri.v1.ExecSyncRequest;
import dev.nodekit.spec.cri.v1.ExecSyncResponse;
import dev.nodekit.spec.cri.v1.PortForwardRequest;
import io.grpc.Status;

/**
 * ExecSync, and the streaming RPCs used for real: the URL that Exec, Attach and PortForward return
 * is opened over WebSocket with the Kubernetes {@value StreamProtocol#V4} protocol (what kubectl and
 * critest's {@code -websocket-*} modes speak; kubelet proxies SPDY to the same server) and what
 * flows through it is compared with what the container really did.
 */
final class ExecChecks {
    private static final Duration STREAM_TIMEOUT = Duration.ofSeconds(15);

    private ExecChecks() {
    }

    static void addTo(Suite.Builder<CriTarget> b) {
        b.check("cri.exec-sync.output", "CRI v1 ExecSync",
                "ExecSync returns stdout and stderr apart and the command's exit code", Workspace.with("exec-sync", (t, ws) -> {
                    String c = ws.sleeper();
                    String token = Workspace.token("xs");
                    ExecSyncResponse r = ws.execSync(c, Commands.print(token + "-out", token + "-err", 7), 10);
                    equal(token + "-out\n", r.getStdout().toStringUtf8(), "ExecSync stdout");
                    equal(token + "-err\n", r.getStderr().toStringUtf8(), "ExecSync stderr");
                    equal(7, r.getExitCode(), "ExecSync exit code of a command that exits 7");
                    ExecSyncResponse zero = ws.execSync(c, Commands.exitWith(0), 10);
                    equal(0, zero.getExitCode(), "ExecSync exit code of a command that exits 0");
                    that(zero.getStdout().isEmpty() && zero.getStderr().isEmpty(),
                            "a silent command produced output: %s", Expect.oneLine(zero));
                }));
        b.check("cri.exec-sync.timeout", "CRI v1 ExecSync",
                "a command that outlives its timeout ends the call with DEADLINE_EXCEEDED (kubelet's probe timeout) "
                        + "and is killed", Workspace.with("exec-sync-timeout", (t, ws) -> {
                    String c = ws.sleeper();
                    // A duration no other process has, to find this one in the process list.
                    long seconds = 31_000_000L + ThreadLocalRandom.current().nextLong(1_000_000L);
                    long t0 = System.nanoTime();
                    Expect.status(Status.Code.DEADLINE_EXCEEDED,
                            "ExecSync(sleep " + seconds + ", timeout 1 s)", () -> t.runtime(Duration.ofSeconds(1))
                                    .execSync(ExecSyncRequest.newBuilder().setContainerId(c)
                                            .addAllCmd(Commands.sleep(seconds)).setTimeout(1).build()));
                    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                    that(ms < 1_000 + 10_000, "ExecSync with a 1 s timeout returned after %d ms", ms);
                    String needle = "sleep " + seconds;
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (true) {
                        String ps = ws.execSync(c, Commands.PROCESS_LIST, 10).getStdout().toStringUtf8();
                        if (ps.lines().noneMatch(l -> l.strip().equals(needle))) {
                            return;
                        }
                        if (System.nanoTime() > deadline) {
                            throw new CheckFailed("'" + needle + "' still runs in the container 5 s after its ExecSync "
                                    + "timed out: the runtime must kill a timed-out command");
                        }
                        Thread.sleep(100);
                    }
                }));
        b.check("cri.stream.exec", "CRI v1 Exec (streaming URL)",
                "the Exec URL, opened over WebSocket " + StreamProtocol.V4 + ", streams the same stdout, stderr and "
                        + "exit code as ExecSync", Workspace.with("stream-exec", (t, ws) -> {
                    String c = ws.sleeper();
                    String token = Workspace.token("ex");
                    for (int code : new int[] {5, 0}) {
                        List<String> cmd = Commands.print(token + "-out", token + "-err", code);
                        ExecSyncResponse sync = ws.execSync(c, cmd, 10);
                        ExecResult streamed = exec(t, c, cmd);
                        equal(sync.getStdout().toStringUtf8(), streamed.stdout(), "stdout through the Exec URL vs ExecSync");
                        equal(sync.getStderr().toStringUtf8(), streamed.stderr(), "stderr through the Exec URL vs ExecSync");
                        equal(sync.getExitCode(), streamed.exitCode(), "exit code through the Exec URL vs ExecSync");
                        equal(code, streamed.exitCode(), "exit code through the Exec URL");
                    }
                }));
        b.check("cri.stream.attach", "CRI v1 Attach (streaming URL)",
                "the Attach URL, opened over WebSocket " + StreamProtocol.V4 + " with tty=false, streams what the "
                        + "container prints on stdout", Workspace.with("stream-attach", (t, ws) -> {
                    ws.requireImage();
                    String token = Workspace.token("at");
                    String c = ws.run(ws.runPod(), "ticker", Commands.ticker(token));
                    String url = ok("Attach", () -> t.runtime().attach(AttachRequest.newBuilder().setContainerId(c)
                            .setStdout(true).setStderr(true).setStdin(false).setTty(false).build())).getUrl();
                    List<Frame> frames;
                    try (StreamSession s = StreamSession.open(uri(url, "Attach"), STREAM_TIMEOUT)) {
                        // Stop at the second line on stdout, or as soon as the output shows up on another channel.
                        frames = s.readUntil(STREAM_TIMEOUT, f -> count(utf8(StreamProtocol.channel(f, StreamProtocol.STDOUT)),
                                token) >= 2 || utf8(StreamProtocol.channel(f, StreamProtocol.STDERR)).contains(token));
                    } catch (java.io.IOException e) {
                        throw new CheckFailed("Attach stream: " + e.getMessage());
                    }
                    String out = utf8(StreamProtocol.channel(frames, StreamProtocol.STDOUT));
                    that(count(out, token) >= 2, "attached stdout never carried the container's output '%s' twice; "
                            + "received: %s", token, StreamSession.summary(frames));
                    String err = utf8(StreamProtocol.channel(frames, StreamProtocol.STDERR));
                    that(!err.contains(token), "stdout output arrived on the stderr channel: %s", StreamSession.summary(frames));
                }));
        b.check("cri.stream.port-forward", "CRI v1 PortForward (streaming URL)",
                "the PortForward URL, opened over WebSocket " + StreamProtocol.V4 + ", carries an HTTP exchange with "
                        + "a server listening inside the pod", Workspace.with("stream-port-forward", (t, ws) -> {
                    ws.requireImage();
                    Workspace.Pod pod = ws.runPod();
                    String c = ws.run(pod, "httpd", Commands.httpServer());
                    String hostname = pod.config().getHostname();
                    awaitHttp(ws, c, hostname);
                    String url = ok("PortForward", () -> t.runtime().portForward(PortForwardRequest.newBuilder()
                            .setPodSandboxId(pod.id()).addPort(Commands.HTTP_PORT).build())).getUrl();
                    List<Frame> frames;
                    try (StreamSession s = StreamSession.open(uri(url, "PortForward"), STREAM_TIMEOUT)) {
                        s.send(0, "GET /hostname HTTP/1.0\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                        // busybox httpd closes after one HTTP/1.0 answer, and the runtime then closes the stream.
                        frames = s.readToEnd(STREAM_TIMEOUT);
                    }
                    for (Frame f : frames) {
                        that(f.channel() <= 1, "message on channel %d; one forwarded port uses channels 0 (data) and 1 "
                                + "(error)", f.channel());
                    }
                    String data = afterPort(frames, 0, "data");
                    String error = afterPort(frames, 1, "error");
                    that(error.isEmpty(), "the error channel reported: %s", error);
                    that(data.startsWith("HTTP/1.") && data.contains(" 200 "), "no HTTP 200 came back through the "
                            + "forwarded port: %s", StreamProtocol.abbreviate(data));
                    that(data.contains(hostname), "the forwarded answer is not from the pod (no hostname %s): %s", hostname,
                            StreamProtocol.abbreviate(data));
                }));
    }

    /** Runs {@code cmd} through the Exec URL (stdout and stderr, no stdin, no tty) and folds the stream. */
    static ExecResult exec(CriTarget t, String container, List<String> cmd) throws Exception {
        String url = ok("Exec", () -> t.runtime().exec(ExecRequest.newBuilder().setContainerId(container).addAllCmd(cmd)
                .setStdout(true).setStderr(true).setStdin(false).setTty(false).build())).getUrl();
        List<Frame> frames;
        try (StreamSession s = StreamSession.open(uri(url, "Exec"), STREAM_TIMEOUT)) {
            frames = s.readToEnd(STREAM_TIMEOUT);
        }
        try {
            return StreamProtocol.exec(frames);
        } catch (ProtocolException e) {
            throw new CheckFailed("Exec stream: " + e.getMessage() + "; received: " + StreamSession.summary(frames));
        }
    }

    private static String afterPort(List<Frame> frames, int channel, String what) {
        try {
            return utf8(StreamProtocol.stripPort(StreamProtocol.channel(frames, channel), Commands.HTTP_PORT, what));
        } catch (ProtocolException e) {
            throw new CheckFailed("PortForward stream: " + e.getMessage() + "; received: " + StreamSession.summary(frames));
        }
    }

    private static URI uri(String url, String rpc) {
        try {
            return StreamProtocol.webSocketUri(url, rpc);
        } catch (ProtocolException e) {
            throw new CheckFailed(e.getMessage());
        }
    }

    /** Waits until the pod's HTTP server answers from inside (port-forwarding to a port nobody listens on proves nothing). */
    private static void awaitHttp(Workspace ws, String container, String expect) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            ExecSyncResponse r = ws.execSync(container, Commands.httpGet("/hostname"), 5);
            if (r.getExitCode() == 0 && r.getStdout().toStringUtf8().contains(expect)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new CheckFailed("the HTTP server in the pod never answered from inside: exit " + r.getExitCode()
                        + ", " + r.getStderr().toStringUtf8().strip());
            }
            Thread.sleep(100);
        }
    }

    static int count(String s, String needle) {
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length())) {
            n++;
        }
        return n;
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
