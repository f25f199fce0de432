package dev.nodekit.cni.ipam;

import java.util.Iterator;
import java.util.NoSuchElementException;

import dev.nodekit.cni.net.IpAddress;

/**
 * host-local's round-robin candidate order over one range set ({@code RangeIter}), reproduced step for
 * step so nodekit hands out the same next address the Go plugin would: start after the last reserved
 * address when it lies in the set (else at the first range's start), walk to the end of its range,
 * continue with the next range (wrapping to the first), skip gateways, stop when back at the first
 * candidate.
 */
final class RangeIterator implements Iterator<IpAddress> {
    private final RangeSet set;
    private int rangeIdx;
    private IpAddress cur;
    private IpAddress startIp;
    private IpAddress next;
    private boolean done;

    RangeIterator(RangeSet set, IpAddress lastReserved) {
        this.set = set;
        int idx = -1;
        if (lastReserved != null) {
            for (int i = 0; i < set.ranges().size(); i++) {
                if (set.ranges().get(i).contains(lastReserved)) {
                    idx = i;
                    break;
                }
            }
        }
        if (idx >= 0) {
            rangeIdx = idx;
            cur = lastReserved;
        } else {
            rangeIdx = 0;
            startIp = set.ranges().get(0).start();
        }
    }

    @Override
    public boolean hasNext() {
        if (next == null && !done) {
            next = step();
            done = next == null;
        }
        return next != null;
    }

    @Override
    public IpAddress next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        IpAddress n = next;
        next = null;
        return n;
    }

    /** Go's {@code RangeIter.Next}, with the recursion on the gateway turned into a loop. */
    private IpAddress step() {
        while (true) {
            AddressRange r = set.ranges().get(rangeIdx);
            if (cur == null) {
                cur = r.start();
                startIp = cur;
                if (cur.equals(r.gateway())) {
                    continue;
                }
                return cur;
            }
            if (cur.equals(r.end())) {
                rangeIdx = (rangeIdx + 1) % set.ranges().size();
                r = set.ranges().get(rangeIdx);
                cur = r.start();
            } else {
                cur = cur.next();
            }
            if (startIp == null) {
                startIp = cur;
            } else if (cur.equals(startIp)) {
                return null;
            }
            if (cur.equals(r.gateway())) {
                continue;
            }
            return cur;
        }
    }
}
