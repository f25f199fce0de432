package dev.nodekit.crishim.api;

import java.util.Optional;

import com.google.protobuf.Message;

/**
 * Where an interceptor declares, once at start-up, what it wants to see. Only RPCs some
 * interceptor registers a typed hook for are decoded; everything else crosses the shim as bytes.
 * Registering a hook on a hot RPC (ListContainers, ListPodSandbox: each once a second per node)
 * therefore has a price, paid by every node.
 *
 * <p>Order: before-hooks run in chain order (the first interceptor in the config first), each one
 * getting the request as the previous one left it; after-hooks run in reverse chain order, like
 * the layers of an onion; completion hooks and observers run after the client has its answer.
 */
public interface Hooks {
    /** Runs {@code hook} on every request of {@code method} before it is routed and forwarded. */
    <Q extends Message, R extends Message> Hooks before(CriMethod<Q, R> method, BeforeHook<Q> hook);

    /**
     * Runs {@code hook} on every response message of {@code method} (each streamed message, for
     * server-streaming RPCs) before the client gets it.
     */
    <Q extends Message, R extends Message> Hooks after(CriMethod<Q, R> method, AfterHook<Q, R> hook);

    /**
     * Runs {@code hook} once the call has ended, whatever the outcome, with the request as it was
     * forwarded and the response the client got. Runs off the call path; its time budget still
     * applies, and its failures are logged and otherwise ignored.
     */
    <Q extends Message, R extends Message> Hooks completed(CriMethod<Q, R> method, CompletionHook<Q, R> hook);

    /**
     * Calls {@code observer} for every call, including methods the shim does not know and calls it
     * forwards as bytes. Runs inline on an I/O thread after the answer is sent: it must be quick and
     * must not block (count, time; no I/O).
     */
    Hooks everyCall(CallObserver observer);

    /** Changes or rejects a request. */
    @FunctionalInterface
    interface BeforeHook<Q extends Message> {
        /**
         * Returns the request to forward: {@code request} itself to leave it alone (then it is not
         * even re-encoded), or a modified copy.
         *
         * @throws CriRejection to fail the call with a status on purpose
         */
        Q before(CriCall call, Q request) throws CriRejection;
    }

    /** Changes a response (or refuses to let it through). */
    @FunctionalInterface
    interface AfterHook<Q extends Message, R extends Message> {
        /**
         * Returns the response to send on: {@code response} itself, or a modified copy.
         *
         * @param request the request as it was forwarded
         * @throws CriRejection to fail the call with a status instead
         */
        R after(CriCall call, Q request, R response) throws CriRejection;
    }

    /** Sees a finished call with its messages. */
    @FunctionalInterface
    interface CompletionHook<Q extends Message, R extends Message> {
        /**
         * @param request  the request as forwarded (or as rejected)
         * @param response the response the client got; empty when the call failed or the method streams
         * @param outcome  status, timing and origin
         */
        void completed(CriCall call, Q request, Optional<R> response, CallOutcome outcome);
    }

    /** Sees every finished call, without its messages. */
    @FunctionalInterface
    interface CallObserver {
        void completed(CallOutcome outcome);
    }
}
