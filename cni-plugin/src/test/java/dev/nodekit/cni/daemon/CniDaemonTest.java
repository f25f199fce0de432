package dev.nodekit.cni.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.cni.api.CniPlugin;

/** The daemon in-process on a socket in a temp dir, with a fake plugin, driven by a Java client speaking CniWire. */
class CniDaemonTest {
    static final String CONF = "{\"cniVersion\":\"1.0.0\",\"name\":\"net1\",\"type\":\"fake\"}";

    @TempDir
    Path dir;
    Path socket;
    Path netns;
    FakePlugin plugin;
    CniDaemon daemon;
    ExecutorService pool = Executors.newCachedThreadPool();

    @BeforeEach
    void setUp() throws IOException {
        socket = dir.resolve("run/cni.sock");
        netns = Files.writeString(dir.resolve("netns"), "");
        plugin = new FakePlugin();
    }

    @AfterEach
    void tearDown() {
        pool.shutdownNow();
        if (daemon != null) {
            daemon.close();
        }
    }

    CniDaemon start(DaemonConfig config) throws IOException {
        Map<String, CniPlugin> plugins = Map.of("fake", plugin, "loopback", plugin);
        daemon = CniDaemon.start(config, plugins, dir.resolve("own-netns"));
        return daemon;
    }

    CniDaemon start() throws IOException {
        return start(DaemonConfig.defaults(socket).withShutdownGrace(Duration.ofSeconds(10)));
    }

    Map<String, String> env(String command, String containerId) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CNI_COMMAND", command);
        if (containerId != null) {
            env.put("CNI_CONTAINERID", containerId);
            env.put("CNI_NETNS", netns.toString());
            env.put("CNI_IFNAME", "eth0");
            env.put("CNI_PATH", "/nonexistent");
        }
        return env;
    }

    /** One call the way the C client makes it: request, ready, commit, answer. */
    CniWire.Answer call(String plugin, String command, String containerId) throws Exception {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            OutputStream out = Channels.newOutputStream(ch);
            InputStream in = Channels.newInputStream(ch);
            CniWire.writeRequest(out, CniWire.Request.of(plugin, env(command, containerId), CONF.getBytes(StandardCharsets.UTF_8)));
            CniWire.Reply reply = CniWire.readReply(in);
            if (!reply.ready()) {
                throw new IllegalStateException("refused " + reply.refusal() + ": " + reply.message());
            }
            CniWire.writeCommit(out);
            return CniWire.readAnswer(in, reply.version());
        }
    }

    static String out(CniWire.Answer a) {
        return new String(a.stdout(), StandardCharsets.UTF_8);
    }

    @Test
    void servesTheDispatcherInProcess() throws Exception {
        start();
        CniWire.Answer add = call("fake", "ADD", "c1");
        assertThat(add.exit()).isZero();
        assertThat(out(add)).contains("\"cniVersion\":\"1.0.0\"").contains("10.9.0.5/24");
        CniWire.Answer version = call("fake", "VERSION", null);
        assertThat(out(version)).contains("supportedVersions");
        // The dispatcher's own checks still run: a missing variable is code 4.
        CniWire.Answer bad;
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            CniWire.writeRequest(Channels.newOutputStream(ch), CniWire.Request.of("fake", Map.of("CNI_COMMAND", "ADD"),
                    CONF.getBytes(StandardCharsets.UTF_8)));
            CniWire.readReply(Channels.newInputStream(ch));
            CniWire.writeCommit(Channels.newOutputStream(ch));
            bad = CniWire.readAnswer(Channels.newInputStream(ch), 1);
        }
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(out(bad)).contains("\"code\":4").contains("CNI_CONTAINERID");
        assertThat(plugin.calls).containsExactly("ADD c1", "ADD done c1");
        assertThat(daemon.trackedAttachments()).isZero();
    }

    @Test
    void unknownPluginNamesAre999() throws Exception {
        start();
        CniWire.Answer a = call("nodekit-frobnicate", "DEL", "c1");
        assertThat(a.exit()).isEqualTo(1);
        assertThat(out(a)).contains("\"code\":999").contains("serves no such plugin");
        assertThat(plugin.calls).isEmpty();
    }

    @Test
    void socketIsOwnerOnlyInAnOwnerOnlyDirectory() throws Exception {
        start();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent()))).isEqualTo("rwx------");
    }

    @Test
    void refusesADirectoryOthersCanEnter() throws Exception {
        Files.createDirectories(socket.getParent());
        Files.setPosixFilePermissions(socket.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThatThrownBy(this::start).isInstanceOf(IOException.class).hasMessageContaining("must be rwx------");
        // Unless the directory is declared the daemon's own (a hostPath kubelet created).
        start(DaemonConfig.defaults(socket).withOwnSocketDir(true));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent()))).isEqualTo("rwx------");
    }

    @Test
    void refusesToStartBesideALiveDaemonAndReplacesAStaleSocket() throws Exception {
        start();
        CniDaemon first = daemon;
        assertThatThrownBy(() -> CniDaemon.start(DaemonConfig.defaults(socket), Map.of("fake", plugin), netns))
                .hasMessageContaining("another daemon is serving");
        first.close();
        daemon = null;
        // A killed daemon leaves its socket file: bound but nobody listening.
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();
        start();
        assertThat(call("fake", "ADD", "c2").exit()).isZero();
    }

    @Test
    void aClientThatWithdrawsBeforeCommittingRunsNothing() throws Exception {
        start();
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            CniWire.writeRequest(Channels.newOutputStream(ch), CniWire.Request.of("fake", env("ADD", "c3"),
                    CONF.getBytes(StandardCharsets.UTF_8)));
            assertThat(CniWire.readReply(Channels.newInputStream(ch)).ready()).isTrue();
        }
        assertThat(call("fake", "DEL", "c3").exit()).isZero();
        assertThat(plugin.calls).containsExactly("DEL c3");
    }

    @Test
    void aNewerProtocolVersionIsRefusedBeforeAnythingRuns() throws Exception {
        start();
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            CniWire.writeRequest(Channels.newOutputStream(ch), new CniWire.Request(7, "fake", env("ADD", "c4"), new byte[0]));
            CniWire.Reply r = CniWire.readReply(Channels.newInputStream(ch));
            assertThat(r.refusal()).isEqualTo(CniWire.REFUSED_VERSION);
            assertThat(r.message()).contains("protocol version 7");
        }
        assertThat(plugin.calls).isEmpty();
    }

    @Test
    void callsOfOneAttachmentTakeTurnsOthersRunAlongside() throws Exception {
        start();
        plugin.hold("a");
        Future<CniWire.Answer> first = pool.submit(() -> call("fake", "ADD", "a"));
        assertThat(plugin.awaitEntered("a")).isTrue();
        Future<CniWire.Answer> del = pool.submit(() -> call("fake", "DEL", "a"));
        // Another container is not held up by "a".
        assertThat(call("fake", "ADD", "b").exit()).isZero();
        Thread.sleep(200);
        assertThat(plugin.calls).doesNotContain("DEL a");
        plugin.release("a");
        assertThat(first.get(30, TimeUnit.SECONDS).exit()).isZero();
        assertThat(del.get(30, TimeUnit.SECONDS).exit()).isZero();
        // The runtime's DEL after an ADD it gave up on runs after that ADD, never beside it.
        assertThat(plugin.calls.indexOf("DEL a")).isGreaterThan(plugin.calls.indexOf("ADD done a"));
        assertThat(daemon.trackedAttachments()).isZero();
    }

    @Test
    void beyondTheConcurrencyBoundACallWaitsThenAnswersTryAgainLater() throws Exception {
        start(DaemonConfig.defaults(socket).withMaxConcurrent(1).withAdmissionWait(Duration.ofMillis(300)));
        plugin.hold("a");
        Future<CniWire.Answer> first = pool.submit(() -> call("fake", "ADD", "a"));
        assertThat(plugin.awaitEntered("a")).isTrue();
        CniWire.Answer second = call("fake", "ADD", "b");
        assertThat(second.exit()).isEqualTo(1);
        assertThat(out(second)).contains("\"code\":11").contains("calls at once");
        plugin.release("a");
        assertThat(first.get(30, TimeUnit.SECONDS).exit()).isZero();
        assertThat(plugin.maxRunning.get()).isEqualTo(1);
        assertThat(call("fake", "ADD", "b").exit()).isZero();
    }

    @Test
    void beyondTheConnectionLimitAClientIsRefusedBusy() throws Exception {
        start(new DaemonConfig(socket, 1, 1, Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(10), false));
        plugin.hold("a");
        Future<CniWire.Answer> first = pool.submit(() -> call("fake", "ADD", "a"));
        assertThat(plugin.awaitEntered("a")).isTrue();
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            try {
                CniWire.writeRequest(Channels.newOutputStream(ch), CniWire.Request.of("fake", env("ADD", "b"), new byte[0]));
            } catch (IOException e) {
                // Refused before the request was read: the refusal is still there to read.
            }
            CniWire.Reply r = CniWire.readReply(Channels.newInputStream(ch));
            assertThat(r.refusal()).isEqualTo(CniWire.REFUSED_BUSY);
        }
        plugin.release("a");
        assertThat(first.get(30, TimeUnit.SECONDS).exit()).isZero();
    }

    @Test
    void aStalledClientIsCutOffAndOthersAreServed() throws Exception {
        start(DaemonConfig.defaults(socket).withIoTimeout(Duration.ofMillis(300)));
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            ch.write(java.nio.ByteBuffer.wrap("NKCR".getBytes(StandardCharsets.US_ASCII)));
            assertThat(call("fake", "ADD", "c5").exit()).isZero();
            // The daemon closes the stalled connection after the I/O bound: we read end of stream.
            assertThat(Channels.newInputStream(ch).read()).isEqualTo(-1);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (daemon.connections() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(daemon.connections()).isZero();
    }

    @Test
    void closeLetsCallsInFlightFinishAndRemovesTheSocket() throws Exception {
        start();
        plugin.hold("a");
        Future<CniWire.Answer> inFlight = pool.submit(() -> call("fake", "ADD", "a"));
        assertThat(plugin.awaitEntered("a")).isTrue();
        Future<?> closing = pool.submit(() -> daemon.close());
        // Bounded wait, not a fixed sleep: on a loaded machine close() may take a while to get there.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.exists(socket) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(socket).doesNotExist();
        assertThat(closing.isDone()).isFalse();
        plugin.release("a");
        assertThat(inFlight.get(30, TimeUnit.SECONDS).exit()).isZero();
        closing.get(30, TimeUnit.SECONDS);
        daemon = null;
    }

    @Test
    void manyParallelCallsAllGetAnswers() throws Exception {
        start(DaemonConfig.defaults(socket).withMaxConcurrent(4));
        List<Future<CniWire.Answer>> fs = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            String id = "p" + i;
            fs.add(pool.submit(() -> call("fake", "ADD", id)));
        }
        for (Future<CniWire.Answer> f : fs) {
            assertThat(f.get(60, TimeUnit.SECONDS).exit()).isZero();
        }
        assertThat(plugin.maxRunning.get()).isLessThanOrEqualTo(4);
        assertThat(daemon.trackedAttachments()).isZero();
    }
}
