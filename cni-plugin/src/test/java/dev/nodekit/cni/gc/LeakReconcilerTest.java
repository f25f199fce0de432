package dev.nodekit.cni.gc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.cni.ipam.FlockLocker;
import dev.nodekit.cni.net.IpMasq;
import dev.nodekit.common.testing.RecordingCommandRunner;

/**
 * The reconciler on host-local directories in a temp dir (real flock), with a fixed clock, boot time
 * and sandbox list: exactly the allocations of unknown sandboxes older than the grace (or than the
 * boot) go, and nothing goes when the runtime cannot be asked.
 */
class LeakReconcilerTest {
    static final Instant NOW = Instant.parse("2026-11-20T12:00:00Z");
    static final Instant BOOT = NOW.minus(Duration.ofHours(2));

    @TempDir
    Path dir;
    Path conf;
    Path data;
    Path net;

    @BeforeEach
    void setUp() throws Exception {
        conf = Files.createDirectories(dir.resolve("net.d"));
        data = dir.resolve("data");
        net = Files.createDirectories(data.resolve("pods"));
        Files.writeString(conf.resolve("10-pods.conflist"), """
                {"cniVersion":"1.0.0","name":"pods","plugins":[
                  {"type":"nodekit-bridge","bridge":"cni0","isGateway":true,"ipMasq":true,
                   "ipam":{"type":"nodekit-host-local","ranges":[[{"subnet":"10.22.0.0/24"}]],"dataDir":"%s"}},
                  {"type":"portmap","capabilities":{"portMappings":true}}]}
                """.formatted(data));
    }

    /** An allocation file as host-local writes it, last written {@code age} before NOW. */
    void allocation(String ip, String owner, Duration age) throws Exception {
        Path f = net.resolve(ip);
        Files.write(f, owner.getBytes(StandardCharsets.UTF_8));
        Files.setLastModifiedTime(f, FileTime.from(NOW.minus(age)));
    }

    LeakReconciler reconciler(Set<String> known, Optional<IpMasq> masq) {
        return new LeakReconciler(conf, () -> known, new FlockLocker(), Duration.ofSeconds(10), masq,
                Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofMinutes(10), BOOT);
    }

    List<String> files() throws Exception {
        try (var s = Files.list(net)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("10.")).sorted().toList();
        }
    }

    @Test
    void releasesOnlyUnknownOwnersOlderThanTheGrace() throws Exception {
        allocation("10.22.0.2", "live\r\neth0", Duration.ofHours(1));
        allocation("10.22.0.3", "gone\r\neth0", Duration.ofHours(1));
        allocation("10.22.0.4", "creating\r\neth0", Duration.ofMinutes(1));
        allocation("10.22.0.5", "legacy-gone", Duration.ofHours(1));
        allocation("10.22.0.6", "", Duration.ofHours(1));
        allocation("10.22.0.7", "notready\r\neth0", Duration.ofHours(1));
        Files.writeString(net.resolve("last_reserved_ip.0"), "10.22.0.7");

        LeakReconciler.Report r = reconciler(Set.of("live", "notready"), Optional.empty()).run(false);

        assertThat(files()).containsExactly("10.22.0.2", "10.22.0.4", "10.22.0.7");
        assertThat(r.networks()).hasSize(1);
        LeakReconciler.NetworkResult n = r.networks().get(0);
        assertThat(n.released()).extracting(a -> a.ip().toString()).containsExactlyInAnyOrder("10.22.0.3", "10.22.0.5",
                "10.22.0.6");
        assertThat(n.inGrace()).extracting(a -> a.containerId().orElseThrow()).containsExactly("creating");
        assertThat(n.kept()).isEqualTo(2);
        assertThat(r.sandboxes()).isEqualTo(2);
        assertThat(net.resolve("last_reserved_ip.0")).exists();
        assertThat(r.problems()).isEmpty();
    }

    @Test
    void afterARebootWithNothingListedEverythingWrittenBeforeTheBootIsLeaked() throws Exception {
        allocation("10.22.0.2", "a\r\neth0", Duration.ofHours(3));
        // Written 5 minutes before the boot: inside the grace by the clock, but no sandbox survived the boot.
        Instant justBeforeBoot = BOOT.minus(Duration.ofMinutes(5));
        allocation("10.22.0.3", "b\r\neth0", Duration.between(justBeforeBoot, NOW));
        allocation("10.22.0.4", "c\r\neth0", Duration.ofMinutes(2));
        LeakReconciler r = new LeakReconciler(conf, Set::of, new FlockLocker(), Duration.ofSeconds(10), Optional.empty(),
                Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofHours(3), BOOT.plus(Duration.ofMinutes(1)));
        assertThat(r.run(false).releasedCount()).isEqualTo(2);
        assertThat(files()).containsExactly("10.22.0.4");
    }

    @Test
    void dryRunChangesNothing() throws Exception {
        allocation("10.22.0.3", "gone\r\neth0", Duration.ofHours(1));
        LeakReconciler.Report r = reconciler(Set.of(), Optional.empty()).run(true);
        assertThat(r.releasedCount()).isEqualTo(1);
        assertThat(files()).containsExactly("10.22.0.3");
        StringWriter w = new StringWriter();
        CniGcCommand.print(r, new PrintWriter(w));
        assertThat(w.toString()).contains("pods: would release 10.22.0.3 (owner gone/eth0)").contains("dry run: ");
    }

    @Test
    void aFailedListingReleasesNothing() throws Exception {
        allocation("10.22.0.3", "gone\r\neth0", Duration.ofHours(1));
        LeakReconciler r = new LeakReconciler(conf, () -> {
            throw new ReconcileException("CRI ListPodSandbox failed: UNAVAILABLE");
        }, new FlockLocker(), Duration.ofSeconds(10), Optional.empty(), Clock.fixed(NOW, ZoneOffset.UTC),
                Duration.ofMinutes(10), BOOT);
        assertThatThrownBy(() -> r.run(false)).isInstanceOf(ReconcileException.class);
        assertThat(files()).containsExactly("10.22.0.3");
    }

    @Test
    void removesChainsOfUnknownContainersWithoutYoungAllocations() throws Exception {
        allocation("10.22.0.2", "live\r\neth0", Duration.ofHours(1));
        allocation("10.22.0.3", "gone\r\neth0", Duration.ofHours(1));
        allocation("10.22.0.4", "creating\r\neth0", Duration.ofMinutes(1));
        RecordingCommandRunner iptables = new RecordingCommandRunner();
        iptables.onPrefix("iptables", "-w").thenSucceed("""
                -A POSTROUTING -s 10.22.0.2/32 -m comment --comment "name: \\"pods\\" id: \\"live\\"" -j CNI-a
                -A POSTROUTING -s 10.22.0.3/32 -m comment --comment "name: \\"pods\\" id: \\"gone\\"" -j CNI-b
                -A POSTROUTING -s 10.22.0.4/32 -m comment --comment "name: \\"pods\\" id: \\"creating\\"" -j CNI-c
                -A POSTROUTING -s 10.22.0.9/32 -m comment --comment "name: \\"pods\\" id: \\"noalloc\\"" -j CNI-d
                -A POSTROUTING -s 10.30.0.9/32 -m comment --comment "name: \\"other\\" id: \\"x\\"" -j CNI-e
                """);
        iptables.onPrefix("ip6tables", "-w").thenSucceed("-P POSTROUTING ACCEPT\n");
        iptables.onPrefix("iptables-restore").thenSucceed();
        LeakReconciler.Report r = reconciler(Set.of("live"), Optional.of(new IpMasq(iptables, Duration.ofSeconds(5))))
                .run(false);
        assertThat(r.chains()).extracting(LeakReconciler.ChainResult::containerId).containsExactlyInAnyOrder("gone",
                "noalloc");
        assertThat(r.chains()).extracting(LeakReconciler.ChainResult::chain).contains(IpMasq.chainName("pods", "gone"));
        assertThat(iptables.invocationsStartingWith("iptables-restore")).hasSize(2);
    }

    @Test
    void unreadableConfigurationsAreReportedAndTheRestDone() throws Exception {
        Files.writeString(conf.resolve("20-broken.conf"), "{not json");
        allocation("10.22.0.3", "gone\r\neth0", Duration.ofHours(1));
        LeakReconciler.Report r = reconciler(Set.of(), Optional.empty()).run(false);
        assertThat(r.releasedCount()).isEqualTo(1);
        assertThat(r.problems()).singleElement().asString().contains("20-broken.conf");
    }

    @Test
    void staleReservationTempFilesGo() throws Exception {
        Path old = net.resolve(".nodekit-reserve.123.1");
        Files.writeString(old, "x\r\neth0");
        Files.setLastModifiedTime(old, FileTime.from(NOW.minus(Duration.ofHours(1))));
        Path young = net.resolve(".nodekit-reserve.124.1");
        Files.writeString(young, "y\r\neth0");
        Files.setLastModifiedTime(young, FileTime.from(NOW.minus(Duration.ofSeconds(5))));
        LeakReconciler.Report r = reconciler(Set.of(), Optional.empty()).run(false);
        assertThat(r.networks().get(0).tempFiles()).isEqualTo(1);
        assertThat(old).doesNotExist();
        assertThat(young).exists();
    }

    @Test
    void readsTheBootTime() throws Exception {
        Path stat = Files.writeString(dir.resolve("stat"), "cpu  1 2 3\nbtime 1763640000\nprocesses 5\n");
        assertThat(LeakReconciler.bootTime(stat)).isEqualTo(Instant.ofEpochSecond(1763640000));
    }
}
