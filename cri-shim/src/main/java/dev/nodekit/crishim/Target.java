package dev.nodekit.crishim;

import java.util.List;

/**
 * Where one call goes and how the answers become one.
 *
 * @param upstreams the runtimes, the one whose answer counts first
 * @param merge     how several answers are merged
 */
record Target(List<Upstream> upstreams, Merge merge) {
    Target {
        upstreams = List.copyOf(upstreams);
        if (upstreams.isEmpty()) {
            throw new IllegalArgumentException("a target needs an upstream");
        }
    }

    static Target single(Upstream u) {
        return new Target(List.of(u), Merge.SINGLE);
    }

    List<String> names() {
        return upstreams.stream().map(Upstream::name).toList();
    }

    /** How the answers of several upstreams are combined. */
    enum Merge {
        /** One upstream: its answer as is. */
        SINGLE,
        /** Unary List responses, concatenated as bytes (their only field is repeated). */
        CONCAT,
        /** ListMetricDescriptors responses, merged by descriptor name. */
        DESCRIPTORS,
        /** Finite streams, interleaved; the call ends when all streams have ended. */
        STREAM,
        /** Endless streams (events), interleaved; the call ends when one stream ends. */
        EVENTS,
        /** The same request everywhere; the first upstream's answer, any failure fails. */
        FIRST_ANSWERS
    }
}
