package dev.nodekit.bench;

import java.util.Arrays;
import java.util.List;

/** Percentiles of a set of latencies (nanoseconds), reported in milliseconds. */
public record LatencyStats(int count, double p50Ms, double p90Ms, double p99Ms, double maxMs, double meanMs) {

    /** Stats of {@code nanos}; nearest-rank percentiles. */
    public static LatencyStats of(List<Long> nanos) {
        if (nanos.isEmpty()) {
            throw new IllegalArgumentException("no samples");
        }
        long[] s = nanos.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(s);
        double sum = 0;
        for (long v : s) {
            sum += v;
        }
        return new LatencyStats(s.length, ms(rank(s, 0.50)), ms(rank(s, 0.90)), ms(rank(s, 0.99)), ms(s[s.length - 1]),
                sum / s.length / 1e6);
    }

    private static long rank(long[] sorted, double q) {
        int idx = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
