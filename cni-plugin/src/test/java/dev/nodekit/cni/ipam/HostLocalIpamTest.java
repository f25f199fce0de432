package dev.nodekit.cni.ipam;

import static dev.nodekit.cni.ipam.IpamFixtures.config;
import static dev.nodekit.cni.ipam.IpamFixtures.ranges;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.cni.api.CniArgs;
import dev.nodekit.cni.net.IpAddress;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.GcAttachment;
import dev.nodekit.spec.cni.IpConfig;
import dev.nodekit.spec.cni.Result;

class HostLocalIpamTest {
    @TempDir
    Path data;

    final HostLocalIpam ipam = new HostLocalIpam(new FlockLocker(), Duration.ofSeconds(30));

    Path net() {
        return data.resolve("net1");
    }

    static List<String> addresses(Result r) {
        List<String> out = new ArrayList<>();
        for (IpConfig ip : r.ips()) {
            out.add(ip.address());
        }
        return out;
    }

    String add(HostLocalConfig c, String id) throws CniException {
        return ipam.add(c, id, "eth0").ips().get(0).address();
    }

    @Test
    void writesGoHostLocalsFormatByteForByte() throws Exception {
        HostLocalConfig c = config(data, ranges("10.1.0.0/24") + ",\"routes\":[{\"dst\":\"0.0.0.0/0\"}]");
        Result r = ipam.add(c, "c1", "eth0");
        assertThat(r.ips()).hasSize(1);
        assertThat(r.ips().get(0).address()).isEqualTo("10.1.0.2/24");
        assertThat(r.ips().get(0).gateway()).hasValue("10.1.0.1");
        assertThat(r.routes().get(0).dst()).isEqualTo("0.0.0.0/0");
        assertThat(Files.readAllBytes(net().resolve("10.1.0.2"))).isEqualTo("c1\r\neth0".getBytes(StandardCharsets.UTF_8));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(net().resolve("10.1.0.2"))))
                .isEqualTo("rw-r--r--");
        assertThat(Files.readString(net().resolve("last_reserved_ip.0"))).isEqualTo("10.1.0.2");
        assertThat(Files.size(net().resolve("lock"))).isZero();
        assertThat(Files.readString(net().resolve(".nodekit-format")))
                .isEqualTo("{\"format\": \"nodekit host-local\", \"version\": 1}\n");
        try (var s = Files.list(net())) {
            assertThat(s.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly(".nodekit-format", "10.1.0.2", "last_reserved_ip.0", "lock");
        }
    }

    @Test
    void roundRobinSkipsTheGatewayAndWrapsAround() throws Exception {
        HostLocalConfig c = config(data, ranges("10.1.0.0/29"));
        List<String> got = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            got.add(add(c, "c" + i));
        }
        assertThat(got).containsExactly("10.1.0.2/29", "10.1.0.3/29", "10.1.0.4/29", "10.1.0.5/29", "10.1.0.6/29");
        assertThatThrownBy(() -> add(c, "c9")).hasMessage(
                "failed to allocate for range 0: no IP addresses available in range set: 10.1.0.1-10.1.0.6");
        ipam.del(c, "c1", "eth0");
        ipam.del(c, "c3", "eth0");
        // After .6 the iterator wraps to the start, skips the gateway .1 and the taken .2: .3 comes first.
        assertThat(add(c, "c10")).isEqualTo("10.1.0.3/29");
        assertThat(add(c, "c11")).isEqualTo("10.1.0.5/29");
    }

    @Test
    void honoursRangeStartEndAndGateway() throws Exception {
        HostLocalConfig c = config(data, "\"ranges\":[[{\"subnet\":\"10.1.0.0/24\",\"rangeStart\":\"10.1.0.100\","
                + "\"rangeEnd\":\"10.1.0.101\",\"gateway\":\"10.1.0.254\"}]]");
        assertThat(ipam.add(c, "a", "eth0").ips().get(0)).isEqualTo(IpConfig.of("10.1.0.100/24", "10.1.0.254"));
        assertThat(add(c, "b")).isEqualTo("10.1.0.101/24");
        assertThatThrownBy(() -> add(c, "c")).hasMessageContaining("no IP addresses available");
    }

    @Test
    void walksEveryRangeOfASetAndGivesOneAddressPerSet() throws Exception {
        HostLocalConfig c = config(data, "\"ranges\":[[{\"subnet\":\"10.1.0.0/30\"},{\"subnet\":\"10.2.0.0/30\"}],"
                + "[{\"subnet\":\"fd00:1::/64\"}]]");
        assertThat(addresses(ipam.add(c, "a", "eth0"))).containsExactly("10.1.0.2/30", "fd00:1::2/64");
        assertThat(addresses(ipam.add(c, "b", "eth0"))).containsExactly("10.2.0.2/30", "fd00:1::3/64");
        assertThat(Files.readString(net().resolve("last_reserved_ip.1"))).isEqualTo("fd00:1::3");
        assertThat(net().resolve("fd00:1::3")).exists();
        assertThatThrownBy(() -> ipam.add(c, "c", "eth0")).hasMessageContaining("range 0");
        // The failed ADD allocated nothing in the IPv6 set.
        assertThat(net().resolve("fd00:1::4")).doesNotExist();
    }

    @Test
    void requestedAddressesFromEverySource() throws Exception {
        HostLocalConfig c = config(data, ranges("10.1.0.0/24", "fd00:1::/64"),
                ",\"runtimeConfig\":{\"ips\":[\"fd00:1::99/64\"]},\"args\":{\"cni\":{\"ips\":[\"10.1.0.77\"]}}",
                CniArgs.EMPTY);
        assertThat(addresses(ipam.add(c, "a", "eth0"))).containsExactly("10.1.0.77/24", "fd00:1::99/64");
        HostLocalConfig env = config(data, ranges("10.1.0.0/24"), "", CniArgs.parse("IgnoreUnknown=1;IP=10.1.0.88"));
        assertThat(add(env, "b")).isEqualTo("10.1.0.88/24");
    }

    @Test
    void anUnsatisfiableRequestFailsAndReleasesWhatItTook() throws Exception {
        HostLocalConfig base = config(data, ranges("10.1.0.0/24", "fd00:1::/64"));
        ipam.add(base, "holder", "eth0");
        HostLocalConfig taken = config(data, ranges("10.1.0.0/24", "fd00:1::/64"),
                ",\"runtimeConfig\":{\"ips\":[\"fd00:1::2\"]}", CniArgs.EMPTY);
        assertThatThrownBy(() -> ipam.add(taken, "x", "eth0"))
                .hasMessage("failed to allocate for range 1: requested IP address fd00:1::2 is not available in range set "
                        + "fd00:1::1-fd00:1::ffff:ffff:ffff:ffff");
        HostLocalConfig gateway = config(data, ranges("10.1.0.0/24"), ",\"runtimeConfig\":{\"ips\":[\"10.1.0.1\"]}",
                CniArgs.EMPTY);
        assertThatThrownBy(() -> ipam.add(gateway, "x", "eth0")).hasMessageContaining("is subnet's gateway");
        HostLocalConfig outside = config(data, ranges("10.1.0.0/24"), ",\"runtimeConfig\":{\"ips\":[\"10.9.0.1\"]}",
                CniArgs.EMPTY);
        assertThatThrownBy(() -> ipam.add(outside, "x", "eth0"))
                .hasMessage("failed to allocate all requested IPs: 10.9.0.1");
        assertThat(ipam.store(base).allocations()).extracting(a -> a.containerId().orElse("?"))
                .containsOnly("holder");
    }

    @Test
    void refusesASecondAllocationForTheSameAttachment() throws Exception {
        HostLocalConfig c = config(data, ranges("10.1.0.0/24"));
        add(c, "c1");
        assertThatThrownBy(() -> add(c, "c1"))
                .hasMessageContaining("10.1.0.2 has been allocated to c1, duplicate allocation is not allowed");
        // Another interface of the same container is another attachment, with its own address.
        assertThat(ipam.add(c, "c1", "net1").ips().get(0).address()).isEqualTo("10.1.0.3/24");
    }

    @Test
    void delIsIdempotentAndDoesNotCreateTheDirectory() throws Exception {
        HostLocalConfig c = config(data, ranges("10.1.0.0/24"));
        assertThat(ipam.del(c, "c1", "eth0")).isEmpty();
        assertThat(net()).doesNotExist();
        add(c, "c1");
        assertThat(ipam.del(c, "c1", "eth0")).containsExactly(IpAddress.parse("10.1.0.2"));
        assertThat(ipam.del(c, "c1", "eth0")).isEmpty();
        assertThat(net().resolve("10.1.0.2")).doesNotExist();
    }

    @Test
    void readsAndReleasesWhatGoHostLocalWrote() throws Exception {
        Files.createDirectories(net());
        Files.writeString(net().resolve("10.1.0.2"), "gocontainer\r\neth0");
        Files.writeString(net().resolve("10.1.0.3"), "legacycontainer");
        Files.writeString(net().resolve("10.1.0.4"), "other\r\neth0");
        Files.writeString(net().resolve("last_reserved_ip.0"), "10.1.0.4");
        Files.writeString(net().resolve("lock"), "");
        HostLocalConfig c = config(data, ranges("10.1.0.0/24"));
        // Round robin continues after Go's last reservation.
        assertThat(add(c, "ours")).isEqualTo("10.1.0.5/24");
        ipam.check(c, "gocontainer", "eth0", Optional.empty());
        ipam.check(c, "legacycontainer", "eth0", Optional.empty());
        assertThatThrownBy(() -> ipam.check(c, "stranger", "eth0", Optional.empty()))
                .hasMessage("host-local: Failed to find address added by container stranger");
        assertThat(ipam.del(c, "gocontainer", "eth0")).containsExactly(IpAddress.parse("10.1.0.2"));
        assertThat(ipam.del(c, "legacycontainer", "eth0")).containsExactly(IpAddress.parse("10.1.0.3"));
        assertThat(net().resolve("10.1.0.4")).exists();
    }

    @Test
    void checkVerifiesThePrevResultsAddresses() throws Exception {
        HostLocalConfig c = config(data, ranges("10.1.0.0/24"));
        Result r = ipam.add(c, "c1", "eth0");
        ipam.check(c, "c1", "eth0", Optional.of(r));
        Result wrong = Result.of(r.cniVersion(), List.of(), List.of(IpConfig.of("10.1.0.99/24")), List.of(),
                Optional.empty());
        assertThatThrownBy(() -> ipam.check(c, "c1", "eth0", Optional.of(wrong)))
                .hasMessageContaining("10.1.0.99 from prevResult is not allocated to c1/eth0");
    }

    @Test
    void corruptAndForeignFilesNeverYieldADuplicateOrACrash() throws Exception {
        Files.createDirectories(net());
        Files.write(net().resolve("10.1.0.2"), new byte[0]);
        Files.write(net().resolve("10.1.0.3"), new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2});
        Files.createDirectories(net().resolve("10.1.0.4"));
        Files.createSymbolicLink(net().resolve("10.1.0.5"), data.resolve("nowhere"));
        Files.write(net().resolve("10.1.0.6"), new byte[100_000]);
        Files.writeString(net().resolve("README"), "hello");
        Files.writeString(net().resolve("010.1.0.7"), "not Go's spelling");
        Files.writeString(net().resolve("last_reserved_ip.0"), "garbage\u0000");
        HostLocalConfig c = config(data, ranges("10.1.0.0/24"));
        assertThat(add(c, "c1")).isEqualTo("10.1.0.7/24");
        assertThat(ipam.store(c).foreignFiles()).containsExactlyInAnyOrder("README", "010.1.0.7");
        List<Allocation> all = ipam.store(c).allocations();
        assertThat(all).filteredOn(Allocation::isOwnerless).extracting(a -> a.ip().toString())
                .containsExactlyInAnyOrder("10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5", "10.1.0.6");
        // DEL of an unrelated container touches none of them; GC releases the ownerless files it can.
        ipam.del(c, "stranger", "eth0");
        assertThat(ipam.store(c).allocations()).hasSize(6);
        List<IpAddress> released = ipam.gc(c, List.of(new GcAttachment("c1", "eth0")));
        assertThat(released).extracting(IpAddress::toString).containsExactlyInAnyOrder("10.1.0.2", "10.1.0.3",
                "10.1.0.5", "10.1.0.6");
        assertThat(net().resolve("10.1.0.4")).isDirectory();
        assertThat(net().resolve("README")).exists();
        assertThat(net().resolve("10.1.0.7")).exists();
    }

    @Test
    void aNewerOrCorruptFormatMarkerIsRefused() throws Exception {
        HostLocalConfig c = config(data, ranges("10.1.0.0/24"));
        add(c, "c1");
        Files.writeString(net().resolve(".nodekit-format"), "{\"format\": \"nodekit host-local\", \"version\": 2}\n");
        assertThatThrownBy(() -> add(c, "c2")).isInstanceOfSatisfying(CniException.class, e -> {
            assertThat(e.code()).isEqualTo(DiskStore.STATE_UNUSABLE);
            assertThat(e.getMessage()).contains("newer nodekit").contains("upgrade nodekit");
        });
        assertThatThrownBy(() -> ipam.del(c, "c1", "eth0")).hasMessageContaining("newer nodekit");
        assertThatThrownBy(() -> ipam.status(c)).isInstanceOfSatisfying(CniException.class,
                e -> assertThat(e.code()).isEqualTo(CniError.PLUGIN_NOT_AVAILABLE));
        Files.writeString(net().resolve(".nodekit-format"), "{garbage");
        assertThatThrownBy(() -> add(c, "c2")).hasMessageContaining("is corrupt");
        Files.writeString(net().resolve(".nodekit-format"), "{\"format\": \"something else\", \"version\": 1}");
        assertThatThrownBy(() -> add(c, "c2")).hasMessageContaining("is corrupt");
    }

    @Test
    void aNetworkPathThatIsNotADirectoryIsAClearError() throws Exception {
        Files.writeString(net(), "not a directory");
        HostLocalConfig c = config(data, ranges("10.1.0.0/24"));
        assertThatThrownBy(() -> add(c, "c1")).isInstanceOfSatisfying(CniException.class, e -> {
            assertThat(e.code()).isEqualTo(DiskStore.STATE_UNUSABLE);
            assertThat(e.getMessage()).contains("exists but is not a directory");
        });
    }

    @Test
    void gcReleasesWhatIsNotValid() throws Exception {
        HostLocalConfig c = config(data, ranges("10.1.0.0/24"));
        add(c, "keep");
        add(c, "drop");
        Files.writeString(net().resolve("10.1.0.50"), "legacykeep");
        Files.writeString(net().resolve("10.1.0.51"), "legacydrop");
        Files.writeString(net().resolve(".nodekit-reserve.123.1"), "drop\r\neth0");
        ipam.gc(c, List.of(new GcAttachment("keep", "eth0"), new GcAttachment("legacykeep", "eth1")));
        Set<String> left = new HashSet<>();
        for (Allocation a : ipam.store(c).allocations()) {
            left.add(a.ip() + "=" + a.containerId().orElse("?"));
        }
        assertThat(left).containsExactlyInAnyOrder("10.1.0.2=keep", "10.1.0.50=legacykeep");
        assertThat(net().resolve(".nodekit-reserve.123.1")).doesNotExist();
        assertThat(net().resolve(".nodekit-format")).exists();
        assertThat(net().resolve("last_reserved_ip.0")).exists();
    }

    @Test
    void statusReportsAnExhaustedOrUnwritablePool() throws Exception {
        HostLocalConfig c = config(data, ranges("10.1.0.0/30", "fd00::/64"));
        ipam.status(c);
        ipam.add(c, "c1", "eth0");
        assertThatThrownBy(() -> ipam.status(c)).isInstanceOfSatisfying(CniException.class, e -> {
            assertThat(e.code()).isEqualTo(CniError.PLUGIN_NOT_AVAILABLE);
            assertThat(e.getMessage()).contains("exhausted").contains("range set 0");
        });
        Path file = Files.writeString(data.resolve("afile"), "");
        HostLocalConfig blocked = config(file, ranges("10.2.0.0/24"));
        assertThatThrownBy(() -> ipam.status(blocked)).isInstanceOfSatisfying(CniException.class, e -> {
            assertThat(e.code()).isEqualTo(CniError.PLUGIN_NOT_AVAILABLE);
            assertThat(e.getMessage()).contains("not writable");
        });
    }

    @Test
    void aBusyLockIsTryAgainLater() throws Exception {
        HostLocalConfig c = config(data, ranges("10.1.0.0/24"));
        add(c, "c1");
        Process holder = new ProcessBuilder("flock", "-o", net().resolve("lock").toString(), "sleep", "20").start();
        try {
            Thread.sleep(300);
            HostLocalIpam impatient = new HostLocalIpam(new FlockLocker(), Duration.ofMillis(300));
            assertThatThrownBy(() -> impatient.add(c, "c2", "eth0")).isInstanceOfSatisfying(CniException.class,
                    e -> assertThat(e.code()).isEqualTo(CniError.TRY_AGAIN_LATER));
        } finally {
            holder.destroyForcibly();
            holder.waitFor(10, TimeUnit.SECONDS);
        }
        assertThat(add(c, "c2")).isEqualTo("10.1.0.3/24");
    }

    @Test
    void hundredParallelThreadsGetHundredDistinctAddresses() throws Exception {
        HostLocalConfig c = config(data, ranges("10.1.0.0/24", "fd00:7::/64"));
        ExecutorService pool = Executors.newFixedThreadPool(100);
        try {
            List<Future<Result>> fs = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                String id = "t" + i;
                fs.add(pool.submit((Callable<Result>) () -> ipam.add(c, id, "eth0")));
            }
            Set<String> seen = new HashSet<>();
            for (Future<Result> f : fs) {
                seen.addAll(addresses(f.get(120, TimeUnit.SECONDS)));
            }
            assertThat(seen).hasSize(200);
        } finally {
            pool.shutdownNow();
        }
        assertThat(ipam.store(c).allocations()).hasSize(200);
    }
}
