package dev.nodekit.cni.ipam;

import java.util.ArrayList;
import java.util.List;

import dev.nodekit.cni.net.IpAddress;
import dev.nodekit.spec.cni.IpRange;

/**
 * A host-local range set: ranges of one address family that do not overlap; one address is allocated
 * per set (a set per family gives dual stack).
 */
public final class RangeSet {
    private final List<AddressRange> ranges;

    private RangeSet(List<AddressRange> ranges) {
        this.ranges = List.copyOf(ranges);
    }

    /**
     * Validates a configured set (Go's {@code RangeSet.Canonicalize}).
     *
     * @throws IllegalArgumentException with host-local's message
     */
    public static RangeSet of(List<IpRange> specs) {
        if (specs == null || specs.isEmpty()) {
            throw new IllegalArgumentException("empty range set");
        }
        List<AddressRange> out = new ArrayList<>(specs.size());
        for (IpRange s : specs) {
            AddressRange r = AddressRange.of(s);
            if (!out.isEmpty() && out.get(0).family() != r.family()) {
                throw new IllegalArgumentException("mixed address families");
            }
            out.add(r);
        }
        for (int i = 0; i < out.size(); i++) {
            for (int j = i + 1; j < out.size(); j++) {
                if (out.get(i).overlaps(out.get(j))) {
                    throw new IllegalArgumentException("subnets " + out.get(i) + " and " + out.get(j) + " overlap");
                }
            }
        }
        return new RangeSet(out);
    }

    /** The ranges, in configuration order. */
    public List<AddressRange> ranges() {
        return ranges;
    }

    /** 4 or 6. */
    public int family() {
        return ranges.get(0).family();
    }

    /** The range holding {@code ip}, or null. */
    public AddressRange rangeFor(IpAddress ip) {
        for (AddressRange r : ranges) {
            if (r.contains(ip)) {
                return r;
            }
        }
        return null;
    }

    /** Whether a range of the set holds {@code ip}. */
    public boolean contains(IpAddress ip) {
        return rangeFor(ip) != null;
    }

    /** Whether any range of this set overlaps any of {@code other}. */
    public boolean overlaps(RangeSet other) {
        for (AddressRange a : ranges) {
            for (AddressRange b : other.ranges) {
                if (a.overlaps(b)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The number of addresses the set can hand out, saturated at Long.MAX_VALUE. */
    public long capacity() {
        long n = 0;
        for (AddressRange r : ranges) {
            long c = r.capacity();
            n = c > Long.MAX_VALUE - n ? Long.MAX_VALUE : n + c;
        }
        return n;
    }

    /** The ranges joined by commas, as host-local prints a set. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (AddressRange r : ranges) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(r.toString());
        }
        return sb.toString();
    }
}
