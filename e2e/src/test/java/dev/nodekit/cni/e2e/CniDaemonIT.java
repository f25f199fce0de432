package dev.nodekit.cni.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.nodekit.bench.cni.CniDaemonProcess;
import dev.nodekit.cni.e2e.CniHost.Exec;
import dev.nodekit.cni.install.InstallSpec;
import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;

/**
 * The thin client and {@code nodekit cni daemon} (its own process, stopped and killed by PID) on a
 * real kernel: calls go through the daemon, DEL works with the daemon down, a daemon killed with -9
 * in the middle of ADD leaves nothing a retried DEL does not reclaim, parallel ADDs get distinct
 * addresses, one log line per call.
 */
@Requires({Requirement.ROOT, Requirement.NETNS, Requirement.IPTABLES, Requirement.CNI_REFERENCE_PLUGINS,
    Requirement.C_COMPILER})
class CniDaemonIT {
    static Path socketDir;
    static Path socket;
    static CniHost host;
    CniDaemonProcess daemon;

    @BeforeAll
    static void install() throws Exception {
        socketDir = Path.of("/run/nkdit-" + Long.toHexString(System.nanoTime() & 0xffffffL));
        socket = socketDir.resolve("cni.sock");
        host = CniHost.create(false, InstallSpec.ClientMode.THIN, socket);
    }

    @AfterAll
    static void cleanUp() throws Exception {
        try {
            if (host != null) {
                host.close();
            }
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(socketDir);
        }
    }

    @BeforeEach
    void startDaemon() throws Exception {
        daemon = CniDaemonProcess.start(socket, host.dir.resolve("daemon.log"), Duration.ofMinutes(2));
    }

    @AfterEach
    void stopDaemon() {
        if (daemon != null) {
            daemon.stop(Duration.ofSeconds(40));
        }
    }

    long servedCalls(String command, String containerId) throws Exception {
        return Files.readAllLines(host.dir.resolve("daemon.log")).stream().filter(l -> l.contains("msg=\"cni call\"")
                && l.contains("command=" + command + " ") && l.contains("container_id=" + containerId + " ")).count();
    }

    @Test
    void callsGoThroughTheDaemonWithOneLogLineEach() throws Exception {
        String net = host.newNetwork();
        String br = host.newBridge();
        String conf = host.masqBridgeConf("1.0.0", net, br);
        Path ns = host.newNetns();
        String id = host.newContainerId();
        Exec add = host.cni("nodekit-bridge", "ADD", ns, id, "eth0", conf);
        assertThat(add.code()).as("%s", add).isZero();
        assertThat(add.err()).as("no fallback").doesNotContain("JVM launcher");
        assertThat(CniHost.linkIn(ns, "eth0")).isTrue();
        assertThat(host.natRules(net)).isNotEmpty();
        Exec del = host.cni("nodekit-bridge", "DEL", ns, id, "eth0", conf);
        assertThat(del.code()).as("%s", del).isZero();
        assertThat(host.allocations(net)).isEmpty();
        assertThat(host.natRules(net)).isEmpty();
        assertThat(servedCalls("ADD", id)).isEqualTo(1);
        assertThat(servedCalls("DEL", id)).isEqualTo(1);
        host.deleteNetns(ns);
    }

    @Test
    void delAndStatusWorkWithTheDaemonDown() throws Exception {
        String net = host.newNetwork();
        String br = host.newBridge();
        String conf = host.masqBridgeConf("1.1.0", net, br);
        Path ns = host.newNetns();
        String id = host.newContainerId();
        host.cni("nodekit-bridge", "ADD", ns, id, "eth0", conf).check();
        // Killed: the socket file stays behind, nobody listens on it.
        daemon.kill();
        assertThat(Files.exists(socket)).isTrue();
        Exec status = host.cni("nodekit-bridge", "STATUS", null, null, null, conf);
        assertThat(status.code()).as("%s", status).isZero();
        Exec del = host.cni("nodekit-bridge", "DEL", ns, id, "eth0", conf);
        assertThat(del.code()).as("%s", del).isZero();
        assertThat(del.err()).contains("running the JVM launcher");
        assertThat(host.allocations(net)).isEmpty();
        assertThat(host.ports(br)).isEmpty();
        assertThat(host.natRules(net)).isEmpty();
        assertThat(CniHost.linkIn(ns, "eth0")).isFalse();
        host.deleteNetns(ns);
        // A new daemon replaces the stale socket and serves again.
        daemon = CniDaemonProcess.start(socket, host.dir.resolve("daemon.log"), Duration.ofMinutes(2));
        assertThat(host.cni("nodekit-bridge", "DEL", ns, id, "eth0", conf).check().err()).doesNotContain("JVM launcher");
    }

    @Test
    void aDaemonKilledMidAddLeavesNothingARetriedDelDoesNotReclaim() throws Exception {
        String net = host.newNetwork();
        String br = host.newBridge();
        String conf = host.masqBridgeConf("1.0.0", net, br);
        // Warm the daemon up so that ADD takes its steady-state time and the kills land inside it.
        Path warm = host.newNetns();
        host.cni("nodekit-bridge", "ADD", warm, "warm", "eth0", conf).check();
        host.cni("nodekit-bridge", "DEL", warm, "warm", "eth0", conf).check();
        host.deleteNetns(warm);
        List<String> outcomes = new ArrayList<>();
        // -1: deterministic, the daemon's ADD is made to wait for the IPAM lock (held here) when it is killed.
        for (int delayMs : new int[] {-1, 2, 8, 15, 25, 40, 70, 120, 250, 400}) {
            if (!daemon.isAlive()) {
                daemon = CniDaemonProcess.start(socket, host.dir.resolve("daemon.log"), Duration.ofMinutes(2));
            }
            Path ns = host.newNetns();
            String id = host.newContainerId();
            Process lock = null;
            if (delayMs < 0) {
                Files.createDirectories(host.ipamDir(net));
                // -o: the lock lives in flock's own process only, not in its sleep (which would keep it, orphaned,
                // for a minute after flock is killed and make the fallback's ADD wait for it).
                lock = new ProcessBuilder("flock", "-o", host.ipamDir(net).resolve("lock").toString(), "sleep", "60")
                        .start();
                awaitTrue("our flock holds the IPAM lock", () -> CniHost.sh("flock", "-n",
                        host.ipamDir(net).resolve("lock").toString(), "true").code() == 1);
            }
            Process client = host.start("nodekit-bridge", "ADD", ns, id, conf);
            if (delayMs < 0) {
                // The daemon's ADD waits for the lock in a flock child of its own (FlockLocker).
                String lockFile = host.ipamDir(net).resolve("lock").toString();
                awaitTrue("the daemon's ADD waits for the IPAM lock", () -> ProcessHandle.of(daemon.pid()).stream()
                        .flatMap(ProcessHandle::descendants).anyMatch(h -> h.info().arguments()
                                .map(a -> List.of(a).contains(lockFile)).orElse(false)));
            } else {
                Thread.sleep(delayMs);
            }
            daemon.kill();
            if (lock != null) {
                lock.descendants().forEach(ProcessHandle::destroyForcibly);
                lock.destroyForcibly();
                lock.waitFor(10, TimeUnit.SECONDS);
            }
            // The client must not hang: it either got its answer or falls back after losing the daemon.
            assertThat(client.waitFor(120, TimeUnit.SECONDS)).as("client after a kill at %d ms", delayMs).isTrue();
            String out = new String(client.getInputStream().readAllBytes());
            outcomes.add(delayMs + " ms: exit " + client.exitValue() + (out.contains("connection lost before the answer")
                    ? ", mid-call, fell back" : out.contains("daemon unreachable") ? ", before the call, fell back"
                            : ", answered by the daemon"));
            if (delayMs < 0) {
                assertThat(out).as("the kill landed in the middle of the daemon's ADD").contains(
                        "connection lost before the answer");
            }
            // Whatever the ADD's outcome, the runtime's DEL (the daemon still down: the fallback) reclaims everything.
            host.delReclaimsEverything(delayMs + " ms (ADD said " + out.strip() + ")", ns, id, conf, net, br);
        }
        System.out.println("kill -9 during ADD through the daemon: " + outcomes);
    }

    /** Polls {@code condition} every 20 ms for at most 30 s (a loaded CI machine), then fails naming {@code what}. */
    static void awaitTrue(String what, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.call()) {
            assertThat(System.nanoTime() < deadline).as("within 30 s: %s", what).isTrue();
            Thread.sleep(20);
        }
    }

    @Test
    void fortyParallelAddsThroughTheDaemonGetDistinctAddresses() throws Exception {
        host.parallelAddsThenDels(40, Duration.ofMinutes(10),
                e -> assertThat(e.err()).as("served by the daemon").doesNotContain("JVM launcher"));
    }
}
