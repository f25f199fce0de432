package dev.nodekit.crishim;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.google.protobuf.Message;

import dev.nodekit.crishim.api.CriMethod;
import dev.nodekit.crishim.api.CriMethods;
import io.grpc.HandlerRegistry;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;

/**
 * Answers every method name: the 41 CRI v1 methods with the plan made for them at start-up, and
 * any other name (a newer CRI, another service) as a pass-through to the default upstream, so a
 * newer kubelet gets the runtime's own answer (often UNIMPLEMENTED, on which it falls back) and
 * never the shim's.
 */
final class ShimRegistry extends HandlerRegistry {
    /** Unknown method names whose definition is kept; beyond this they are built per call. */
    static final int MAX_CACHED_UNKNOWN = 64;

    private final Engine engine;
    private final Map<String, ServerMethodDefinition<byte[], byte[]>> known;
    private final ConcurrentHashMap<String, ServerMethodDefinition<byte[], byte[]>> unknown = new ConcurrentHashMap<>();

    ShimRegistry(Engine engine) {
        this.engine = engine;
        Map<String, ServerMethodDefinition<byte[], byte[]>> m = new HashMap<>();
        for (CriMethod<?, ?> cm : CriMethods.all()) {
            m.put(cm.fullName(), definition(plan(cm)));
        }
        this.known = Map.copyOf(m);
    }

    /** The plans of the CRI methods (tests and logs). */
    List<MethodPlan> knownPlans() {
        return known.values().stream().map(d -> ((Handler) d.getServerCallHandler()).plan).toList();
    }

    @Override
    public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
        ServerMethodDefinition<byte[], byte[]> d = known.get(methodName);
        if (d != null) {
            return d;
        }
        if (methodName.indexOf('/') <= 0) {
            return null; // not a gRPC method name; grpc-java answers UNIMPLEMENTED
        }
        d = unknown.get(methodName);
        if (d != null) {
            return d;
        }
        d = definition(plan(methodName));
        if (unknown.size() < MAX_CACHED_UNKNOWN) {
            unknown.putIfAbsent(methodName, d);
        }
        return d;
    }

    @SuppressWarnings("unchecked")
    private MethodPlan plan(CriMethod<?, ?> cm) {
        MethodDescriptor<byte[], byte[]> descriptor = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setFullMethodName(cm.fullName())
                .setType(cm.serverStreaming() ? MethodDescriptor.MethodType.SERVER_STREAMING
                        : MethodDescriptor.MethodType.UNARY)
                .setRequestMarshaller(RawMarshaller.INSTANCE)
                .setResponseMarshaller(RawMarshaller.INSTANCE)
                .build();
        return new MethodPlan((CriMethod<Message, Message>) cm, descriptor, engine.chain.befores(cm),
                engine.chain.afters(cm), engine.chain.completions(cm), engine.router.kindFor(cm),
                engine.router.learnsFromResponse(cm));
    }

    private MethodPlan plan(String methodName) {
        MethodDescriptor<byte[], byte[]> descriptor = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setFullMethodName(methodName)
                .setType(MethodDescriptor.MethodType.UNKNOWN)
                .setRequestMarshaller(RawMarshaller.INSTANCE)
                .setResponseMarshaller(RawMarshaller.INSTANCE)
                .build();
        return new MethodPlan(null, descriptor, List.of(), List.of(), List.of(), RouteKind.PRIMARY, false);
    }

    private ServerMethodDefinition<byte[], byte[]> definition(MethodPlan plan) {
        return ServerMethodDefinition.create(plan.descriptor(), new Handler(engine, plan));
    }

    /** Starts one call of a method by its plan. */
    private static final class Handler implements ServerCallHandler<byte[], byte[]> {
        private final Engine engine;
        private final MethodPlan plan;
        private final boolean passThrough;

        Handler(Engine engine, MethodPlan plan) {
            this.engine = engine;
            this.plan = plan;
            this.passThrough = plan.passThrough();
        }

        @Override
        public ServerCall.Listener<byte[]> startCall(ServerCall<byte[], byte[]> call, Metadata headers) {
            if (passThrough) {
                return PassThroughCall.start(engine, plan, engine.upstreams.primary(), call, headers);
            }
            return new InterceptedCall(engine, plan, call, headers).start();
        }
    }
}
