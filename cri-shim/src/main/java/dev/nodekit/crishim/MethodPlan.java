package dev.nodekit.crishim;

import java.util.List;

import com.google.protobuf.Message;

import dev.nodekit.crishim.api.CriMethod;
import io.grpc.MethodDescriptor;

/**
 * What the shim does with calls of one method, decided once: the hooks, the route, and whether the
 * call can be forwarded as bytes without looking at it at all.
 *
 * @param method      the CRI method, null for a method the shim does not know
 * @param descriptor  the method with raw marshallers, for server and client side
 * @param befores     before-hooks in chain order
 * @param afters      after-hooks in reverse chain order
 * @param completions completion hooks in reverse chain order
 * @param route       how it is routed
 * @param learns      whether routing learns ids from its response
 */
record MethodPlan(CriMethod<Message, Message> method, MethodDescriptor<byte[], byte[]> descriptor,
        List<Chain.Before> befores, List<Chain.After> afters, List<Chain.Completion> completions, RouteKind route,
        boolean learns) {

    String fullName() {
        return descriptor.getFullMethodName();
    }

    /**
     * Nothing reads the messages and the upstream is known before the request arrives: forwarded
     * as bytes, any cardinality (client-streaming methods of a future CRI included).
     */
    boolean passThrough() {
        return befores.isEmpty() && afters.isEmpty() && completions.isEmpty() && route == RouteKind.PRIMARY;
    }

    /** Whether the request must be decoded before routing. */
    boolean decodesRequest() {
        return !befores.isEmpty() || route.needsDecodedRequest();
    }
}
