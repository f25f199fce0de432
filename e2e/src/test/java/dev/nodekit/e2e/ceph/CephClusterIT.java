package dev.nodekit.e2e.ceph;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;

/** The fixture itself: boot, the restricted user, stop/start with data, clusters side by side. */
@Requires({Requirement.ROOT, Requirement.CEPH})
class CephClusterIT {

    @Test
    void sharedClusterServesTheRestrictedUserWithoutAConfigFile() throws IOException {
        CephCluster c = CephCluster.shared();
        System.out.printf("ceph fixture: boot %d ms (%s) %s%n", c.lastStartDuration().toMillis(), c,
                c.lastStartTimeline());

        assertThat(c.lastStartDuration()).isLessThan(Duration.ofSeconds(30));
        assertThat(c.daemonPids()).hasSize(3).allSatisfy(pid -> assertThat(ProcessHandle.of(pid)).isPresent());
        assertThat(Files.readString(c.dir().resolve("pids"))).contains("mon.a ", "mgr.x ", "osd.0 ");
        assertThat(c.monitors()).startsWith("[v2:127.0.0.1:").contains(",v1:127.0.0.1:");

        String image = "fixture-" + System.nanoTime();
        CliResult create = asClient(c, "rbd", "create", "--size", "16M", c.pool() + "/" + image);
        assertThat(create.ok()).as(create.describe()).isTrue();
        assertThat(c.adminOk("rbd", "ls", "-p", c.pool())).contains(image);

        // The restricted user is confined to its pool.
        c.adminOk("ceph", "osd", "pool", "create", "fixture-other", "1", "1");
        CliResult other = asClient(c, "rados", "-p", "fixture-other", "ls");
        assertThat(other.ok()).isFalse();
        assertThat(other.stderr()).containsIgnoringCase("operation not permitted");

        c.adminOk("rbd", "rm", c.pool() + "/" + image);
        c.adminOk("ceph", "osd", "pool", "rm", "fixture-other", "fixture-other", "--yes-i-really-really-mean-it");
    }

    @Test
    void stopAndStartKeepTheDataAndTheMonitorPorts() throws IOException {
        try (CephCluster c = CephCluster.start(CephCluster.Options.defaults().withPool("restart"))) {
            CephCluster shared = CephCluster.shared();
            assertThat(c.monV2Port()).isNotEqualTo(shared.monV2Port());
            assertThat(c.fsid()).isNotEqualTo(shared.fsid());

            c.adminOk("rbd", "create", "--size", "8M", "restart/kept");
            c.adminOk("rados", "-p", "restart", "setomapval", "dir", "k", "v");
            List<Long> before = c.daemonPids();

            long t0 = System.nanoTime();
            c.stop();
            long stopMs = (System.nanoTime() - t0) / 1_000_000;
            assertThat(c.running()).isFalse();
            assertThat(before).allSatisfy(pid -> assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).isEmpty());
            assertThat(listening(c.monV2Port())).isFalse();

            c.start();
            System.out.printf("ceph fixture: stop %d ms, restart %d ms %s%n", stopMs, c.lastStartDuration().toMillis(),
                    c.lastStartTimeline());
            assertThat(c.adminOk("rbd", "ls", "-p", "restart")).contains("kept");
            assertThat(c.adminOk("rados", "-p", "restart", "getomapval", "dir", "k")).contains("76");
        }
    }

    @Test
    void bluestoreOnASparseFileForDataHeavyTests() throws IOException {
        CephCluster.Options o = CephCluster.Options.defaults().withStore(CephCluster.ObjectStore.BLUESTORE)
                .withPool("blue");
        try (CephCluster c = CephCluster.start(o)) {
            System.out.printf("ceph fixture: bluestore boot %d ms %s%n", c.lastStartDuration().toMillis(),
                    c.lastStartTimeline());
            java.nio.file.Path block = c.dir().resolve("osd/ceph-0.block");
            assertThat(Files.size(block)).isEqualTo(o.storeBytes());
            c.adminOk("rbd", "create", "--size", "256M", "blue/data");
            String bench = c.adminOk("rbd", "bench", "--io-type", "write", "--io-size", "4M", "--io-total", "64M",
                    "--io-pattern", "seq", "blue/data");
            assertThat(bench).contains("elapsed");
            String du = Exec.run(List.of("du", "-k", block.toString()), Map.of(), c.dir().resolve("scratch"),
                    Duration.ofSeconds(30), Optional::empty).stdout();
            long allocatedKb = Long.parseLong(du.split("\\s+")[0]);
            assertThat(allocatedKb * 1024).as("sparse block file").isBetween(64L << 20, o.storeBytes() / 4);
        }
    }

    private static boolean listening(int port) {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static CliResult asClient(CephCluster c, String tool, String... args) throws IOException {
        List<String> argv = new java.util.ArrayList<>(List.of(tool, "--id", c.clientId(), "--keyfile",
                c.clientKeyFile().toString(), "-c", "/dev/null", "-m", c.monitors()));
        argv.addAll(List.of(args));
        return Exec.run(argv, Map.of(), c.dir().resolve("scratch"), Duration.ofSeconds(60), Optional::empty);
    }
}
