package dev.nodekit.common.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class NodeFactsTest {

    @Test
    void collectsPlausibleFactsOfThisHost() throws Exception {
        NodeFacts f = NodeFacts.collect();

        String kernelHostname = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        assertThat(f.hostname()).satisfiesAnyOf(h -> assertThat(h).isEqualTo(kernelHostname),
                h -> assertThat(h).startsWith(kernelHostname + "."));
        long processors = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("processor"))
                .count();
        assertThat(f.logicalCpus()).isEqualTo(processors);
        long memTotalKb = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                .map(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElseThrow();
        assertThat(f.totalMemoryBytes()).isEqualTo(memTotalKb * 1024);
        assertThat(f.kernelVersion()).isEqualTo(System.getProperty("os.version"));
        assertThat(f.osName()).isNotBlank();
        assertThat(f.architecture()).isEqualTo(System.getProperty("os.arch"));

        assertThat(f.filesystems()).anySatisfy(fs -> {
            assertThat(fs.mountPoint()).isEqualTo("/");
            assertThat(fs.totalBytes()).isPositive();
            assertThat(fs.usableBytes()).isBetween(0L, fs.totalBytes());
            assertThat(fs.type()).isNotBlank();
        });
        assertThat(f.filesystems()).noneMatch(fs -> fs.mountPoint().startsWith("/proc") || fs.type().equals("sysfs"));

        NodeFacts.NetworkInterface lo = f.networkInterface("lo").orElseThrow();
        assertThat(lo.up()).isTrue();
        assertThat(lo.ipv4()).contains("127.0.0.1/8");
        if (Files.exists(Path.of("/proc/net/if_inet6"))
                && Files.readString(Path.of("/proc/net/if_inet6")).contains("00000000000000000000000000000001")) {
            assertThat(lo.ipv6()).contains("::1/128");
        }
        assertThat(lo.macAddress()).isEmpty();
        List<String> kernelInterfaces;
        try (var s = Files.list(Path.of("/sys/class/net"))) {
            kernelInterfaces = s.map(p -> p.getFileName().toString()).toList();
        }
        assertThat(f.interfaces()).extracting(NodeFacts.NetworkInterface::name).isSubsetOf(kernelInterfaces);
        for (NodeFacts.NetworkInterface i : f.interfaces()) {
            if (!i.macAddress().isEmpty()) {
                assertThat(i.macAddress()).matches("([0-9a-f]{2}:){5}[0-9a-f]{2}")
                        .isEqualTo(Files.readString(Path.of("/sys/class/net", i.name(), "address")).strip());
            }
        }
    }

    @Test
    void toJsonNamesEveryFact() throws Exception {
        NodeFacts f = new NodeFacts("node-1", "Debian GNU/Linux 12", "6.1.0", "amd64", 2, 1024,
                List.of(new NodeFacts.Filesystem("/", "ext4", "/dev/vda", 100, 40)),
                List.of(new NodeFacts.NetworkInterface("eth0", "02:00:00:00:00:01", List.of("192.0.2.2/24"),
                        List.of("fd00::2/64"), true, "UP")));
        JsonNode json = new ObjectMapper().readTree(f.toJson());
        assertThat(json.get("hostname").asText()).isEqualTo("node-1");
        assertThat(json.get("logicalCpus").asInt()).isEqualTo(2);
        assertThat(json.get("filesystems").get(0).get("usableBytes").asLong()).isEqualTo(40);
        assertThat(json.get("interfaces").get(0).get("ipv4").get(0).asText()).isEqualTo("192.0.2.2/24");
        assertThat(json.get("interfaces").get(0).get("up").asBoolean()).isTrue();
        assertThat(new ObjectMapper().readValue(f.toJson(), NodeFacts.class)).isEqualTo(f);
    }

    @Test
    void lazyCollectsOnceOnFirstUse() {
        Supplier<NodeFacts> lazy = NodeFacts.lazy();
        NodeFacts first = lazy.get();
        assertThat(lazy.get()).isSameAs(first);
    }

    @Test
    void recordsAreValidatedAndImmutable() {
        assertThatThrownBy(() -> new NodeFacts("h", "os", "k", "amd64", 0, 1, List.of(), List.of()))
                .hasMessageContaining("logicalCpus");
        java.util.ArrayList<String> v4 = new java.util.ArrayList<>(List.of("10.0.0.1/8"));
        NodeFacts.NetworkInterface i = new NodeFacts.NetworkInterface("x", "", v4, List.of(), false, "DOWN");
        v4.clear();
        assertThat(i.ipv4()).containsExactly("10.0.0.1/8");
    }

    @Test
    void macAndCidrNormalisation() {
        assertThat(OshiCollector.mac("unknown")).isEmpty();
        assertThat(OshiCollector.mac("00:00:00:00:00:00")).isEmpty();
        assertThat(OshiCollector.mac("02:FC:00:00:00:01")).isEqualTo("02:fc:00:00:00:01");
        assertThat(OshiCollector.cidrs(new String[] {"192.0.2.2", "10.0.0.1"}, new Short[] {24}))
                .containsExactly("192.0.2.2/24", "10.0.0.1");
        assertThat(OshiCollector.cidrs(new String[] {"fd00:0:0:0:0:0:0:2"}, new Short[] {64})).containsExactly("fd00::2/64");
    }

    @Test
    void ipv6AddressesAreCompressedAsRfc5952Says() {
        assertThat(OshiCollector.compressIpv6("0:0:0:0:0:0:0:1")).isEqualTo("::1");
        assertThat(OshiCollector.compressIpv6("0:0:0:0:0:0:0:0")).isEqualTo("::");
        assertThat(OshiCollector.compressIpv6("fe80:0:0:0:fc:ff:fe00:1")).isEqualTo("fe80::fc:ff:fe00:1");
        assertThat(OshiCollector.compressIpv6("2001:db8:0:0:1:0:0:1")).isEqualTo("2001:db8::1:0:0:1");
        assertThat(OshiCollector.compressIpv6("2001:db8:0:1:1:1:1:1")).isEqualTo("2001:db8:0:1:1:1:1:1");
        assertThat(OshiCollector.compressIpv6("FE80:0:0:0:0:0:0:0%eth0")).isEqualTo("fe80::");
        assertThat(OshiCollector.compressIpv6("1:0:0:2:0:0:0:3")).isEqualTo("1:0:0:2::3");
        assertThat(OshiCollector.compressIpv6("not-an-address")).isEqualTo("not-an-address");
    }
}
