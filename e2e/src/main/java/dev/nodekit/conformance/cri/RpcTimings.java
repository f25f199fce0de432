package dev.nodekit.conformance.cri;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;

/**
 * Wall-clock latency of every call a {@link CriTarget} made, per RPC (start to close, as the
 * caller sees it, failures included). Cheap enough to stay on: one {@code nanoTime} pair per call.
 */
public final class RpcTimings implements ClientInterceptor {
    private final Map<String, ConcurrentLinkedQueue<Long>> nanos = new ConcurrentHashMap<>();

    /** Count, median and maximum of one RPC. */
    public record Stats(String rpc, int count, Duration median, Duration max) {
        /** {@code ExecSync n=12 p50=41.2ms max=1003.0ms}. */
        public String line() {
            return String.format(Locale.ROOT, "%s n=%d p50=%.1fms max=%.1fms", rpc, count, median.toNanos() / 1e6,
                    max.toNanos() / 1e6);
        }
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        String rpc = method.getBareMethodName() == null ? method.getFullMethodName() : method.getBareMethodName();
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
            @Override
            public void start(Listener<R> listener, Metadata headers) {
                long start = System.nanoTime();
                super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                    @Override
                    public void onClose(Status status, Metadata trailers) {
                        record(rpc, System.nanoTime() - start);
                        super.onClose(status, trailers);
                    }
                }, headers);
            }
        };
    }

    void record(String rpc, long elapsedNanos) {
        nanos.computeIfAbsent(rpc, k -> new ConcurrentLinkedQueue<>()).add(elapsedNanos);
    }

    /** Stats per RPC name, sorted by name. */
    public List<Stats> stats() {
        Map<String, Stats> out = new TreeMap<>();
        nanos.forEach((rpc, q) -> {
            List<Long> v = new ArrayList<>(q);
            if (v.isEmpty()) {
                return;
            }
            v.sort(null);
            long median = v.size() % 2 == 1 ? v.get(v.size() / 2) : (v.get(v.size() / 2 - 1) + v.get(v.size() / 2)) / 2;
            out.put(rpc, new Stats(rpc, v.size(), Duration.ofNanos(median), Duration.ofNanos(v.get(v.size() - 1))));
        });
        return List.copyOf(out.values());
    }
}
