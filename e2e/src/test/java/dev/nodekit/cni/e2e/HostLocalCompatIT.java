package dev.nodekit.cni.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.nodekit.cni.e2e.CniHost.Exec;
import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;

/**
 * nodekit-host-local against the Go host-local binary on the same directory: what one writes the
 * other reads and releases, byte for byte, and the two exclude each other under concurrency (flock on
 * both sides). No namespace is needed: IPAM plugins only touch files.
 */
@Requires({Requirement.ROOT, Requirement.CNI_REFERENCE_PLUGINS})
class HostLocalCompatIT {
    static CniHost host;

    @BeforeAll
    static void install() throws Exception {
        host = CniHost.create(false);
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (host != null) {
            host.close();
        }
    }

    String conf(String net, String type, String... subnets) {
        StringBuilder ranges = new StringBuilder();
        for (String s : subnets) {
            ranges.append(ranges.length() > 0 ? "," : "").append("[{\"subnet\":\"").append(s).append("\"}]");
        }
        return "{\"cniVersion\":\"1.0.0\",\"name\":\"" + net + "\",\"type\":\"" + type + "\",\"ipam\":{\"type\":\""
                + type + "\",\"ranges\":[" + ranges + "],\"dataDir\":\"" + host.data + "\"}}";
    }

    Exec ipam(String type, String cmd, String id, String conf) throws Exception {
        return host.cni(type, cmd, Path.of("/run/netns/unused"), id, "eth0", conf);
    }

    @Test
    void goWritesNodekitReadsAndTheOtherWayRound() throws Exception {
        String net = host.newNetwork();
        String v4 = host.freeSubnet();
        String v6 = host.freeSubnet6();
        String goConf = conf(net, "host-local", v4, v6);
        String nkConf = conf(net, "nodekit-host-local", v4, v6);

        Exec goAdd = ipam("host-local", "ADD", "gocontainer", goConf).check();
        List<String> goIps = new ArrayList<>();
        goAdd.json().path("ips").forEach(ip -> goIps.add(ip.path("address").asText()));
        String goV4 = goIps.get(0).split("/")[0];
        assertThat(Files.readString(host.ipamDir(net).resolve(goV4))).isEqualTo("gocontainer\r\neth0");

        // nodekit continues Go's round robin and writes the same bytes.
        Exec nkAdd = ipam("nodekit-host-local", "ADD", "nkcontainer", nkConf).check();
        String nkV4 = nkAdd.json().path("ips").get(0).path("address").asText().split("/")[0];
        assertThat(nkV4).isNotEqualTo(goV4);
        assertThat(Files.readAllBytes(host.ipamDir(net).resolve(nkV4)))
                .isEqualTo("nkcontainer\r\neth0".getBytes(StandardCharsets.UTF_8));
        assertThat(Files.readString(host.ipamDir(net).resolve("last_reserved_ip.0"))).isEqualTo(nkV4);

        // Each checks and releases the other's allocation.
        ipam("nodekit-host-local", "CHECK", "gocontainer", nkConf).check();
        ipam("host-local", "CHECK", "nkcontainer", goConf).check();
        ipam("nodekit-host-local", "DEL", "gocontainer", nkConf).check();
        ipam("host-local", "DEL", "nkcontainer", goConf).check();
        assertThat(host.allocations(net)).isEmpty();
        // Go's DEL left nodekit's format marker alone.
        assertThat(host.ipamDir(net).resolve(".nodekit-format")).exists();

        // Go keeps allocating in a directory nodekit has marked.
        ipam("host-local", "ADD", "again", goConf).check();
        ipam("nodekit-host-local", "DEL", "again", nkConf).check();
        assertThat(host.allocations(net)).isEmpty();
    }

    @Test
    void goAndNodekitInParallelNeverHandOutOneAddressTwice() throws Exception {
        String net = host.newNetwork();
        String v4 = host.freeSubnet();
        int n = 50;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<Exec>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String type = i % 2 == 0 ? "host-local" : "nodekit-host-local";
                String id = "mix" + i;
                fs.add(pool.submit(() -> ipam(type, "ADD", id, conf(net, type, v4))));
            }
            Set<String> addrs = new HashSet<>();
            for (Future<Exec> f : fs) {
                Exec e = f.get(10, TimeUnit.MINUTES);
                assertThat(e.code()).as("%s", e).isZero();
                addrs.add(e.json().path("ips").get(0).path("address").asText());
            }
            assertThat(addrs).hasSize(n);
            assertThat(host.allocations(net)).hasSize(n);
            List<Future<Exec>> dels = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                // Released by the other implementation than the one that allocated.
                String type = i % 2 == 0 ? "nodekit-host-local" : "host-local";
                String id = "mix" + i;
                dels.add(pool.submit(() -> ipam(type, "DEL", id, conf(net, type, v4))));
            }
            for (Future<Exec> f : dels) {
                assertThat(f.get(10, TimeUnit.MINUTES).code()).isZero();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(host.allocations(net)).isEmpty();
    }
}
