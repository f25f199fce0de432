package dev.nodekit.crishim;

import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.crishim.api.CallOutcome;
import dev.nodekit.spec.cri.v1.ListMetricDescriptorsResponse;
import dev.nodekit.spec.cri.v1.MetricDescriptor;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;

/**
 * The upstream side of one call with a single request: one client call per upstream of the
 * {@link Target}, merged into one {@link ResponseSink}. Flow control is per upstream: the sink asks
 * for the next message of upstream {@code source} once it has passed the last one on.
 */
abstract class Leg {
    private static final Logger log = LoggerFactory.getLogger(Leg.class);

    /** Starts the call(s): headers, the request, half-close. */
    abstract void start(Metadata headers, byte[] request);

    /** The sink is ready for another message from {@code source}. */
    abstract void requestMore(int source);

    /** Cancels what is still running. */
    abstract void cancel(String reason);

    static Leg create(Target target, MethodDescriptor<byte[], byte[]> method, CallOptions options, ResponseSink sink,
            RoutingConfig.ListFailure listFailure) {
        return target.merge() == Target.Merge.SINGLE
                ? new Single(target.upstreams().get(0), method, options, sink)
                : new FanOut(target, method, options, sink, listFailure);
    }

    /** What the status says about who ended the call, and a description that names the runtime when the shim could not reach it. */
    static Status annotate(Status status, Upstream u) {
        if (status.getCode() == Status.Code.UNAVAILABLE && status.getCause() != null) {
            return Status.UNAVAILABLE.withCause(status.getCause()).withDescription("cri-shim: runtime '" + u.name()
                    + "' at " + u.endpoint() + " is unavailable: " + status.getDescription());
        }
        return status;
    }

    static CallOutcome.Origin originOf(Status status) {
        if (status.getCause() == null) {
            return CallOutcome.Origin.UPSTREAM;
        }
        return status.getCode() == Status.Code.CANCELLED ? CallOutcome.Origin.CLIENT : CallOutcome.Origin.TRANSPORT;
    }

    /** One upstream: every event straight through. */
    static final class Single extends Leg {
        private final Upstream upstream;
        private final ClientCall<byte[], byte[]> call;
        private final ResponseSink sink;

        Single(Upstream upstream, MethodDescriptor<byte[], byte[]> method, CallOptions options, ResponseSink sink) {
            this.upstream = upstream;
            this.call = upstream.newCall(method, options);
            this.sink = sink;
        }

        @Override
        void start(Metadata headers, byte[] request) {
            call.start(new ClientCall.Listener<>() {
                @Override
                public void onHeaders(Metadata h) {
                    sink.onHeaders(h);
                }

                @Override
                public void onMessage(byte[] message) {
                    sink.onMessage(message, 0);
                }

                @Override
                public void onClose(Status status, Metadata trailers) {
                    sink.onClose(annotate(status, upstream), trailers, originOf(status));
                }
            }, headers);
            call.sendMessage(request);
            call.halfClose();
            call.request(1);
        }

        @Override
        void requestMore(int source) {
            call.request(1);
        }

        @Override
        void cancel(String reason) {
            call.cancel(reason, null);
        }
    }

    /**
     * Several upstreams. Decisions are made under the leg's lock; the sink is always called outside
     * it, so a sink that cancels the leg from its own lock cannot deadlock with an upstream thread.
     */
    static final class FanOut extends Leg {
        private final Target target;
        private final Target.Merge merge;
        private final ResponseSink sink;
        private final RoutingConfig.ListFailure listFailure;
        private final List<ClientCall<byte[], byte[]>> calls = new ArrayList<>();
        private final byte[][] answers;
        private final Metadata[] headersOf;
        private final Status[] statuses;
        private int open;
        private int started;
        private boolean headersSent;
        private boolean finished;

        FanOut(Target target, MethodDescriptor<byte[], byte[]> method, CallOptions options, ResponseSink sink,
                RoutingConfig.ListFailure listFailure) {
            this.target = target;
            this.merge = target.merge();
            this.sink = sink;
            this.listFailure = listFailure;
            int n = target.upstreams().size();
            this.answers = new byte[n][];
            this.headersOf = new Metadata[n];
            this.statuses = new Status[n];
            this.open = n;
            for (Upstream u : target.upstreams()) {
                calls.add(u.newCall(method, options));
            }
        }

        private boolean streaming() {
            return merge == Target.Merge.STREAM || merge == Target.Merge.EVENTS;
        }

        /** Whether a failure of upstream {@code i} fails the whole call. */
        private boolean fatal(int i) {
            return merge == Target.Merge.FIRST_ANSWERS || merge == Target.Merge.EVENTS
                    || listFailure == RoutingConfig.ListFailure.FAIL;
        }

        /**
         * Starts the calls one by one under the lock, so no other thread cancels a call while it is
         * being started; a call that fails inside {@code start} (on this thread) stops the loop.
         */
        @Override
        synchronized void start(Metadata headers, byte[] request) {
            for (int i = 0; i < calls.size() && !finished; i++) {
                final int source = i;
                started = i + 1;
                Metadata copy = new Metadata();
                copy.merge(headers);
                ClientCall<byte[], byte[]> c = calls.get(i);
                c.start(new ClientCall.Listener<>() {
                    @Override
                    public void onHeaders(Metadata h) {
                        FanOut.this.onHeaders(source, h);
                    }

                    @Override
                    public void onMessage(byte[] message) {
                        FanOut.this.onMessage(source, message);
                    }

                    @Override
                    public void onClose(Status status, Metadata trailers) {
                        FanOut.this.onClose(source, annotate(status, target.upstreams().get(source)), trailers,
                                originOf(status));
                    }
                }, copy);
                c.sendMessage(request);
                c.halfClose();
                c.request(1);
            }
        }

        private void onHeaders(int source, Metadata h) {
            boolean send;
            synchronized (this) {
                headersOf[source] = h;
                send = streaming() && !headersSent && !finished;
                headersSent |= send;
            }
            if (send) {
                sink.onHeaders(h);
            }
        }

        private void onMessage(int source, byte[] message) {
            if (streaming()) {
                synchronized (this) {
                    if (finished) {
                        return;
                    }
                }
                sink.onMessage(message, source);
                return;
            }
            synchronized (this) {
                answers[source] = message;
            }
            calls.get(source).request(1); // unary: let the close come
        }

        private void onClose(int source, Status status, Metadata trailers, CallOutcome.Origin origin) {
            List<ClientCall<byte[], byte[]>> toCancel = List.of();
            Runnable deliver = null;
            synchronized (this) {
                if (finished) {
                    return;
                }
                statuses[source] = status;
                open--;
                boolean failed = !status.isOk();
                if (failed && fatal(source) || merge == Target.Merge.EVENTS) {
                    finished = true;
                    toCancel = others(source);
                    Status s = failed ? named(status, source) : status;
                    deliver = () -> sink.onClose(s, trailers, origin);
                } else if (failed) {
                    log.atWarn().addKeyValue("upstream", target.upstreams().get(source).name())
                            .addKeyValue("status", status.getCode())
                            .log("a runtime failed a fanned-out List call; answering with the others (listFailure: SKIP)");
                }
                if (!finished && open == 0) {
                    finished = true;
                    deliver = complete(trailers);
                }
            }
            for (ClientCall<byte[], byte[]> c : toCancel) {
                c.cancel("cri-shim: another runtime ended the fanned-out call", null);
            }
            if (deliver != null) {
                deliver.run();
            }
        }

        /** All upstreams have closed, none fatally: what to send (called under the lock, run outside it). */
        private Runnable complete(Metadata lastTrailers) {
            int firstOk = -1;
            for (int i = 0; i < statuses.length; i++) {
                if (statuses[i].isOk()) {
                    firstOk = i;
                    break;
                }
            }
            if (firstOk < 0) {
                Status s = named(statuses[0], 0);
                return () -> sink.onClose(s, new Metadata(), CallOutcome.Origin.UPSTREAM);
            }
            if (streaming()) {
                boolean needHeaders = !headersSent;
                headersSent = true;
                Metadata h = headersOf[firstOk] != null ? headersOf[firstOk] : new Metadata();
                return () -> {
                    if (needHeaders) {
                        sink.onHeaders(h);
                    }
                    sink.onClose(Status.OK, new Metadata(), CallOutcome.Origin.UPSTREAM);
                };
            }
            byte[] merged = switch (merge) {
                case FIRST_ANSWERS -> answers[0] == null ? new byte[0] : answers[0];
                case DESCRIPTORS -> mergeDescriptors();
                default -> concat();
            };
            Metadata h = headersOf[firstOk] != null ? headersOf[firstOk] : new Metadata();
            return () -> {
                sink.onHeaders(h);
                sink.onMessage(merged, 0);
                sink.onClose(Status.OK, new Metadata(), CallOutcome.Origin.UPSTREAM);
            };
        }

        /** Concatenated encodings of messages whose only field is repeated encode their merge. */
        private byte[] concat() {
            int size = 0;
            for (int i = 0; i < answers.length; i++) {
                if (statuses[i].isOk() && answers[i] != null) {
                    size += answers[i].length;
                }
            }
            byte[] out = new byte[size];
            int at = 0;
            for (int i = 0; i < answers.length; i++) {
                if (statuses[i].isOk() && answers[i] != null) {
                    System.arraycopy(answers[i], 0, out, at, answers[i].length);
                    at += answers[i].length;
                }
            }
            return out;
        }

        private byte[] mergeDescriptors() {
            java.util.LinkedHashMap<String, MetricDescriptor> byName = new java.util.LinkedHashMap<>();
            for (int i = 0; i < answers.length; i++) {
                if (statuses[i].isOk() && answers[i] != null) {
                    try {
                        for (MetricDescriptor d : ListMetricDescriptorsResponse.parseFrom(answers[i]).getDescriptorsList()) {
                            byName.putIfAbsent(d.getName(), d);
                        }
                    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                        log.atWarn().addKeyValue("upstream", target.upstreams().get(i).name())
                                .log("unparseable ListMetricDescriptors answer left out");
                    }
                }
            }
            return ListMetricDescriptorsResponse.newBuilder().addAllDescriptors(byName.values()).build().toByteArray();
        }

        private Status named(Status s, int source) {
            String prefix = "runtime '" + target.upstreams().get(source).name() + "': ";
            String d = s.getDescription() == null ? "" : s.getDescription();
            return d.startsWith("cri-shim: ") ? s : s.withDescription(prefix + d);
        }

        private List<ClientCall<byte[], byte[]>> others(int source) {
            List<ClientCall<byte[], byte[]>> out = new ArrayList<>();
            for (int i = 0; i < started; i++) {
                if (i != source && statuses[i] == null) {
                    out.add(calls.get(i));
                }
            }
            return out;
        }

        @Override
        void requestMore(int source) {
            calls.get(source).request(1);
        }

        @Override
        void cancel(String reason) {
            List<ClientCall<byte[], byte[]>> toCancel;
            synchronized (this) {
                finished = true; // calls not started yet never will be
                toCancel = new ArrayList<>();
                for (int i = 0; i < started; i++) {
                    if (statuses[i] == null) {
                        toCancel.add(calls.get(i));
                    }
                }
            }
            for (ClientCall<byte[], byte[]> c : toCancel) {
                c.cancel(reason, null);
            }
        }
    }
}
