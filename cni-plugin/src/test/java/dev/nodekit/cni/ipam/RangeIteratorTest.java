package dev.nodekit.cni.ipam;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.nodekit.cni.net.IpAddress;
import dev.nodekit.spec.cni.IpRange;

/** The candidate order of Go's RangeIter, case by case (see allocator_test.go in containernetworking/plugins). */
class RangeIteratorTest {

    static RangeSet set(IpRange... ranges) {
        return RangeSet.of(List.of(ranges));
    }

    static IpRange range(String subnet, String start, String end) {
        return new IpRange(subnet, Optional.ofNullable(start), Optional.ofNullable(end), Optional.empty(), Map.of());
    }

    static List<String> order(RangeSet s, String last) {
        List<String> out = new ArrayList<>();
        RangeIterator it = new RangeIterator(s, last == null ? null : IpAddress.parse(last));
        while (it.hasNext()) {
            out.add(it.next().toString());
        }
        return out;
    }

    @Test
    void freshSetStartsAtRangeStartSkippingTheGateway() {
        assertThat(order(set(IpRange.of("10.0.0.0/29")), null))
                .containsExactly("10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6");
    }

    @Test
    void continuesAfterTheLastReservedAndWraps() {
        assertThat(order(set(IpRange.of("10.0.0.0/29")), "10.0.0.4"))
                .containsExactly("10.0.0.5", "10.0.0.6", "10.0.0.2", "10.0.0.3", "10.0.0.4");
    }

    @Test
    void movesThroughTheRangesOfASet() {
        RangeSet s = set(range("10.0.0.0/24", "10.0.0.10", "10.0.0.11"), range("10.0.1.0/24", "10.0.1.10", "10.0.1.11"));
        assertThat(order(s, null)).containsExactly("10.0.0.10", "10.0.0.11", "10.0.1.10", "10.0.1.11");
        assertThat(order(s, "10.0.0.11")).containsExactly("10.0.1.10", "10.0.1.11", "10.0.0.10", "10.0.0.11");
    }

    @Test
    void aLastReservedOutsideTheSetMeansAFreshStart() {
        assertThat(order(set(IpRange.of("10.0.0.0/29")), "192.168.0.1")).first().isEqualTo("10.0.0.2");
    }

    @Test
    void aRangeOfOnlyTheGatewayYieldsNothing() {
        assertThat(order(set(range("10.0.0.0/24", "10.0.0.1", "10.0.0.1")), null)).isEmpty();
    }
}
