package dev.nodekit.crishim.api;

import java.util.Objects;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;

import io.grpc.MethodDescriptor;

/**
 * One CRI RPC with its request and response types: the key an interceptor registers a typed hook
 * under (see {@link CriMethods} for all of them). Identity is the full method name.
 *
 * @param <Q> the request message
 * @param <R> the response message (of each streamed message, for server-streaming RPCs)
 */
public final class CriMethod<Q extends Message, R extends Message> {
    private final String fullName;
    private final String serviceName;
    private final String name;
    private final boolean serverStreaming;
    private final Q requestPrototype;
    private final R responsePrototype;

    private CriMethod(String fullName, boolean serverStreaming, Q requestPrototype, R responsePrototype) {
        this.fullName = fullName;
        int slash = fullName.indexOf('/');
        this.serviceName = fullName.substring(0, slash);
        this.name = fullName.substring(slash + 1);
        this.serverStreaming = serverStreaming;
        this.requestPrototype = requestPrototype;
        this.responsePrototype = responsePrototype;
    }

    /**
     * The method of a generated gRPC descriptor (protobuf marshallers, unary or server-streaming:
     * CRI has no client-streaming RPC).
     */
    @SuppressWarnings("unchecked")
    public static <Q extends Message, R extends Message> CriMethod<Q, R> of(MethodDescriptor<Q, R> descriptor) {
        Objects.requireNonNull(descriptor, "descriptor");
        MethodDescriptor.MethodType type = descriptor.getType();
        if (type != MethodDescriptor.MethodType.UNARY && type != MethodDescriptor.MethodType.SERVER_STREAMING) {
            throw new IllegalArgumentException(descriptor.getFullMethodName() + " is " + type
                    + "; only unary and server-streaming methods can be typed");
        }
        if (!(descriptor.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<Q> q)
                || !(descriptor.getResponseMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<R> r)) {
            throw new IllegalArgumentException(descriptor.getFullMethodName() + " does not use protobuf marshallers");
        }
        return new CriMethod<>(descriptor.getFullMethodName(), type == MethodDescriptor.MethodType.SERVER_STREAMING,
                q.getMessagePrototype(), r.getMessagePrototype());
    }

    /** {@code runtime.v1.RuntimeService/RunPodSandbox}: the gRPC full name (the HTTP/2 path without its slash). */
    public String fullName() {
        return fullName;
    }

    /** {@code runtime.v1.RuntimeService} or {@code runtime.v1.ImageService}. */
    public String serviceName() {
        return serviceName;
    }

    /** {@code RunPodSandbox}: the RPC name, as metrics and logs show it. */
    public String name() {
        return name;
    }

    /** Whether the runtime answers with a stream of responses (GetContainerEvents, Stream*). */
    public boolean serverStreaming() {
        return serverStreaming;
    }

    /** The default instance of the request type. */
    public Q requestPrototype() {
        return requestPrototype;
    }

    /** The default instance of the response type. */
    public R responsePrototype() {
        return responsePrototype;
    }

    /** Decodes a request as it travels on the wire. */
    @SuppressWarnings("unchecked")
    public Q parseRequest(byte[] bytes) throws InvalidProtocolBufferException {
        return (Q) requestPrototype.getParserForType().parseFrom(bytes);
    }

    /** Decodes one response message as it travels on the wire. */
    @SuppressWarnings("unchecked")
    public R parseResponse(byte[] bytes) throws InvalidProtocolBufferException {
        return (R) responsePrototype.getParserForType().parseFrom(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CriMethod<?, ?> m && m.fullName.equals(fullName);
    }

    @Override
    public int hashCode() {
        return fullName.hashCode();
    }

    @Override
    public String toString() {
        return fullName;
    }
}
