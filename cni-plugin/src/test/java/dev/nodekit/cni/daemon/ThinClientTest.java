package dev.nodekit.cni.daemon;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.cni.install.CniInstaller;
import dev.nodekit.cni.install.InstallSpec;
import dev.nodekit.cni.launch.LeanCommandRunner;
import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;

/**
 * The C thin client as installed (compiled by the installer), against the real daemon in-process and
 * against scripted servers that misbehave in each way the client must survive. The JVM launchers are
 * replaced by a script that reports what it was given, so a fallback shows up in the output.
 */
@Requires(Requirement.C_COMPILER)
class ThinClientTest {
    static final String CONF = "{\"cniVersion\":\"1.0.0\",\"name\":\"net1\",\"type\":\"nodekit-bridge\"}";

    @TempDir
    Path dir;
    Path bin;
    Path socket;
    Path netns;
    CniDaemon daemon;
    Thread server;

    @BeforeEach
    void install() throws Exception {
        socket = dir.resolve("run/cni.sock");
        netns = Files.writeString(dir.resolve("netns"), "");
        CniInstaller.Report r = new CniInstaller(new LeanCommandRunner(), Duration.ofMinutes(2)).install(InstallSpec.builder(
                dir.resolve("bin"), dir.resolve("conf"), dir.resolve("lib"), Path.of(System.getProperty("java.home"), "bin",
                        "java")).archive(false).client(InstallSpec.ClientMode.THIN).daemonSocket(socket).build());
        assertThat(r.client()).isPresent();
        bin = dir.resolve("bin");
        for (String name : new String[] {"nodekit-bridge", "loopback"}) {
            Path fake = dir.resolve("lib/launchers").resolve(name);
            Files.writeString(fake, "#!/bin/sh\necho \"fallback $0 $CNI_COMMAND $CNI_CONTAINERID stdin=$(cat)\"\n");
            Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        // Generous bounds by default: a loaded CI machine must not turn a served call into a fallback.
        // The tests of the bounds themselves set short ones.
        setTimeouts(5000, 5000, 30000);
    }

    @AfterEach
    void stop() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        if (server != null) {
            server.interrupt();
            server.join(5000);
        }
    }

    void setTimeouts(int connect, int ready, int request) throws IOException {
        Files.writeString(bin.resolve(CniInstaller.CLIENT_CONF), "socket=" + socket + "\nfallback_dir=" + dir.resolve(
                "lib/launchers") + "\nconnect_timeout_ms=" + connect + "\nready_timeout_ms=" + ready
                + "\nrequest_timeout_ms=" + request + "\n");
    }

    record Run(int exit, String out, String err, long millis) {
    }

    Run run(String name, String command, String stdin, boolean closeStdin) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(bin.resolve(name).toString());
        pb.environment().clear();
        pb.environment().put("CNI_COMMAND", command);
        pb.environment().put("CNI_CONTAINERID", "c1");
        pb.environment().put("CNI_NETNS", netns.toString());
        pb.environment().put("CNI_IFNAME", "eth0");
        pb.environment().put("CNI_PATH", bin.toString());
        pb.environment().put("NOT_FORWARDED", "x");
        Path out = dir.resolve("out");
        Path err = dir.resolve("err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        long start = System.nanoTime();
        Process p = pb.start();
        try {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            if (closeStdin) {
                p.getOutputStream().close();
            }
        } catch (IOException e) {
            // The client exited without reading all of it: its output tells why.
        }
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("client finished").isTrue();
        try {
            p.getOutputStream().close();
        } catch (IOException e) {
            // Already gone.
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err), (System.nanoTime() - start) / 1_000_000);
    }

    Run run(String command) throws Exception {
        return run("nodekit-bridge", command, CONF, true);
    }

    void startDaemon(FakePlugin plugin) throws IOException {
        Map<String, dev.nodekit.cni.api.CniPlugin> m = new HashMap<>();
        m.put("nodekit-bridge", plugin);
        daemon = CniDaemon.start(DaemonConfig.defaults(socket), m, dir.resolve("own-netns"));
    }

    /** A one-connection server running {@code script} (after reading a whole request) on the socket. */
    void scripted(Script script) throws IOException {
        Files.createDirectories(socket.getParent());
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        s.bind(UnixDomainSocketAddress.of(socket));
        server = new Thread(() -> {
            try (s; SocketChannel c = s.accept()) {
                InputStream in = Channels.newInputStream(c);
                OutputStream out = Channels.newOutputStream(c);
                CniWire.Request r = CniWire.readRequest(in);
                script.run(r, in, out);
            } catch (Exception e) {
                // The test thread judges the client's side.
            }
        });
        server.start();
    }

    interface Script {
        void run(CniWire.Request r, InputStream in, OutputStream out) throws Exception;
    }

    @Test
    void forwardsRawBytesToTheDaemonAndWritesItsAnswer() throws Exception {
        FakePlugin plugin = new FakePlugin();
        startDaemon(plugin);
        Run add = run("ADD");
        assertThat(add.exit()).as("%s", add).isZero();
        assertThat(add.out()).startsWith("{\"cniVersion\":\"1.0.0\"").contains("10.9.0.5/24").doesNotContain("fallback");
        assertThat(add.err()).isEmpty();
        assertThat(plugin.calls).containsExactly("ADD c1", "ADD done c1");
        // The dispatcher's error travels as is: exit 1 and the error object.
        Run check = run("nodekit-bridge", "CHECK", CONF.replace("1.0.0", "0.3.1"), true);
        assertThat(check.exit()).isEqualTo(1);
        assertThat(check.out()).contains("\"code\":1");
    }

    @Test
    void onlyCniVariablesTravel() throws Exception {
        scripted((r, in, out) -> {
            CniWire.writeReady(out, 1);
            CniWire.readCommit(in);
            String env = String.join(",", r.env().keySet());
            CniWire.writeDone(out, 1, new CniWire.Answer(0, (r.plugin() + " " + env + " " + new String(r.stdin(),
                    StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8), new byte[0]));
        });
        Run r = run("ADD");
        assertThat(r.out()).startsWith("nodekit-bridge ").contains("CNI_COMMAND").contains("CNI_NETNS")
                .doesNotContain("NOT_FORWARDED").endsWith(CONF);
    }

    @Test
    void versionDoesNotWaitForStdin() throws Exception {
        FakePlugin plugin = new FakePlugin();
        startDaemon(plugin);
        Run v = run("nodekit-bridge", "VERSION", "", false);
        assertThat(v.exit()).isZero();
        assertThat(v.out()).contains("supportedVersions");
    }

    @Test
    void noDaemonFallsBackWithTheStdinItRead() throws Exception {
        Run r = run("ADD");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).isEqualTo("fallback " + dir.resolve("lib/launchers/nodekit-bridge") + " ADD c1 stdin=" + CONF + "\n");
        assertThat(r.err()).contains("daemon unreachable at " + socket);
        // The loopback alias falls back to its own launcher.
        assertThat(run("loopback", "DEL", CONF, true).out()).startsWith("fallback " + dir.resolve("lib/launchers/loopback"));
    }

    @Test
    void aStaleSocketFallsBackAtOnce() throws Exception {
        Files.createDirectories(socket.getParent());
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(socket));
        }
        Run r = run("DEL");
        assertThat(r.out()).startsWith("fallback ");
        assertThat(r.err()).contains("Connection refused");
    }

    @Test
    void noReadyAnswerInTimeFallsBack() throws Exception {
        setTimeouts(5000, 300, 30000);
        scripted((r, in, out) -> Thread.sleep(5000));
        Run r = run("ADD");
        assertThat(r.out()).startsWith("fallback ");
        assertThat(r.err()).contains("gave no ready answer in 300 ms");
    }

    @Test
    void aDaemonDyingAfterTheCommitFallsBack() throws Exception {
        scripted((r, in, out) -> {
            CniWire.writeReady(out, 1);
            CniWire.readCommit(in);
            // and closes without an answer, as a killed daemon's socket does
        });
        Run r = run("DEL");
        assertThat(r.out()).startsWith("fallback ").contains(" DEL c1 stdin=" + CONF);
        assertThat(r.err()).contains("connection lost before the answer");
    }

    @Test
    void aSlowDaemonAfterTheCommitIsTryAgainLaterNotAFallback() throws Exception {
        setTimeouts(5000, 5000, 800);
        scripted((r, in, out) -> {
            CniWire.writeReady(out, 1);
            CniWire.readCommit(in);
            Thread.sleep(5000);
        });
        Run r = run("ADD");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("\"code\":11").contains("may still be running there").doesNotContain("fallback");
        assertThat(r.millis()).isLessThan(4000);
    }

    @Test
    void aVersionRefusalFallsBackWithTheDaemonsMessage() throws Exception {
        scripted((r, in, out) -> CniWire.writeRefusal(out, CniWire.REFUSED_VERSION, "request in protocol version 1, "
                + "this daemon speaks up to 0"));
        Run r = run("STATUS");
        assertThat(r.out()).startsWith("fallback ");
        assertThat(r.err()).contains("this daemon speaks up to 0");
    }

    @Test
    void aNewerDaemonVersionFallsBack() throws Exception {
        scripted((r, in, out) -> out.write(new byte[] {'N', 'K', 'C', 'A', 2}));
        Run r = run("ADD");
        assertThat(r.out()).startsWith("fallback ");
        assertThat(r.err()).contains("protocol version 2, this client speaks 1");
    }

    @Test
    void aBusyRefusalIsTryAgainLater() throws Exception {
        scripted((r, in, out) -> CniWire.writeRefusal(out, CniWire.REFUSED_BUSY, "serves 1 connections at once"));
        Run r = run("ADD");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("\"code\":11").contains("serves 1 connections at once");
    }

    @Test
    void aLargeConfigurationSurvivesBothPaths() throws Exception {
        String big = "{\"cniVersion\":\"1.0.0\",\"name\":\"net1\",\"type\":\"nodekit-bridge\",\"pad\":\"" + "x".repeat(300_000)
                + "\"}";
        Run fallback = run("nodekit-bridge", "ADD", big, true);
        assertThat(fallback.out()).hasSize("fallback ".length() + dir.resolve("lib/launchers/nodekit-bridge").toString()
                .length() + " ADD c1 stdin=".length() + big.length() + 1);
        scripted((r, in, out) -> {
            CniWire.writeReady(out, 1);
            CniWire.readCommit(in);
            CniWire.writeDone(out, 1, new CniWire.Answer(0, r.stdin(), new byte[0]));
        });
        Run daemon = run("nodekit-bridge", "ADD", big, true);
        assertThat(daemon.out()).isEqualTo(big);
    }

    @Test
    void missingSettingsAreACleanError() throws Exception {
        Files.delete(bin.resolve(CniInstaller.CLIENT_CONF));
        Run r = run("ADD");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("\"code\":999").contains("configuration missing");
    }

    @Test
    void theInstallerRecognisesItsClientsAndReplacesThem() throws Exception {
        CniInstaller.Report again = new CniInstaller(new LeanCommandRunner(), Duration.ofMinutes(2)).install(
                InstallSpec.builder(bin, dir.resolve("conf"), dir.resolve("lib"), Path.of(System.getProperty("java.home"),
                        "bin", "java")).archive(false).client(InstallSpec.ClientMode.THIN).daemonSocket(socket)
                        .clientBinary(Optional.of(dir.resolve("lib/nodekit-cni-client"))).build());
        assertThat(again.launchers()).hasSize(4);
    }
}
