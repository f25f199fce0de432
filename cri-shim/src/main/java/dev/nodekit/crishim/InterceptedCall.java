package dev.nodekit.crishim;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;

import dev.nodekit.crishim.api.CallOutcome;
import dev.nodekit.crishim.api.CriCall;
import dev.nodekit.crishim.api.CriMethod;
import dev.nodekit.crishim.api.FailureMode;
import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;

/**
 * A call of a CRI method with a single request that something reads: hooks, or routing over several
 * upstreams. The request is collected, decoded only if a hook or the router needs it, passed
 * through the before-hooks, routed, and forwarded (re-encoded only if a hook changed it); each
 * response message goes through the after-hooks (decoded only if there are any); the status is
 * passed on; observers and completion hooks run once the client has its answer.
 *
 * <p>Threads: request processing runs on the server's I/O thread, or on a hook pool thread when
 * before-hooks must run. Response events run on the client's I/O thread, or in order on pool
 * threads when after-hooks must run. Everything that touches the server call or starts/cancels
 * the leg holds this object's lock; the leg never calls this object while holding its own lock.
 */
final class InterceptedCall extends ServerCall.Listener<byte[]> implements ResponseSink, CriCall {
    private static final Logger log = LoggerFactory.getLogger(InterceptedCall.class);

    private final Engine engine;
    private final MethodPlan plan;
    private final CriMethod<Message, Message> method;
    private final ServerCall<byte[], byte[]> serverCall;
    private final Metadata headers;
    private final CallOptions options;
    private final Deadline deadline;
    private final long startNanos = System.nanoTime();
    private final Executor responses;
    private final AtomicBoolean finished = new AtomicBoolean();

    private byte[] requestBytes;
    private int requestCount;
    private volatile byte[] forwarded;
    private volatile Message lastRequest;
    private volatile Target target;
    private volatile byte[] firstResponse;
    private volatile byte[] lastSent;

    // guarded by this
    private Leg leg;
    private boolean closed;
    private boolean headersSent;
    private final ArrayDeque<Integer> pending = new ArrayDeque<>();

    InterceptedCall(Engine engine, MethodPlan plan, ServerCall<byte[], byte[]> serverCall, Metadata headers) {
        this.engine = engine;
        this.plan = plan;
        this.method = plan.method();
        this.serverCall = serverCall;
        this.headers = headers;
        this.deadline = Context.current().getDeadline();
        this.options = deadline == null ? CallOptions.DEFAULT : CallOptions.DEFAULT.withDeadline(deadline);
        this.responses = plan.afters().isEmpty() ? Runnable::run : new SerialExecutor(engine.hooks.pool());
    }

    ServerCall.Listener<byte[]> start() {
        serverCall.request(2); // a second message is a protocol error we want to see
        return this;
    }

    // ---- client -> shim ----------------------------------------------------------------------

    @Override
    public void onMessage(byte[] message) {
        if (++requestCount == 1) {
            requestBytes = message;
        } else {
            closeWith(Status.INTERNAL.withDescription("cri-shim: " + method.name() + " takes one request message"),
                    new Metadata(), CallOutcome.Origin.CLIENT);
        }
    }

    @Override
    public void onHalfClose() {
        if (isClosed()) {
            return;
        }
        if (requestBytes == null) {
            closeWith(Status.INTERNAL.withDescription("cri-shim: " + method.name() + " half-closed without a request"),
                    new Metadata(), CallOutcome.Origin.CLIENT);
            return;
        }
        if (plan.befores().isEmpty()) {
            processRequest();
            return;
        }
        try {
            engine.hooks.pool().execute(this::processRequest);
        } catch (RejectedExecutionException e) {
            closeWith(Status.UNAVAILABLE.withDescription("cri-shim: no thread free to run the interceptors of "
                    + method.name()), new Metadata(), CallOutcome.Origin.INTERCEPTOR);
        }
    }

    @Override
    public void onCancel() {
        Leg l;
        synchronized (this) {
            closed = true;
            l = leg;
        }
        if (l != null) {
            l.cancel("cri-shim: the client cancelled the call");
        }
        finish(Status.CANCELLED.withDescription("the client cancelled the call"), CallOutcome.Origin.CLIENT);
    }

    @Override
    public void onReady() {
        List<Integer> sources;
        Leg l;
        synchronized (this) {
            sources = List.copyOf(pending);
            pending.clear();
            l = leg;
        }
        if (l != null) {
            sources.forEach(l::requestMore);
        }
    }

    private void processRequest() {
        byte[] bytes = requestBytes;
        Message req = null;
        if (plan.decodesRequest()) {
            try {
                req = method.parseRequest(bytes);
            } catch (InvalidProtocolBufferException e) {
                closeWith(Status.INVALID_ARGUMENT.withDescription("cri-shim: the " + method.name()
                        + " request does not decode: " + e.getMessage()), new Metadata(), CallOutcome.Origin.INTERCEPTOR);
                return;
            }
            Message original = req;
            for (Chain.Before b : plan.befores()) {
                if (isClosed()) {
                    return;
                }
                Message in = req;
                HookRunner.Result<Message> r = engine.hooks.run(b.who(), plan.fullName(), "before",
                        () -> java.util.Objects.requireNonNull(b.hook().before(this, in), "before-hook returned null"));
                if (r instanceof HookRunner.Ok<Message> ok) {
                    req = ok.value();
                } else if (r instanceof HookRunner.Rejected<Message> rejected) {
                    lastRequest = in;
                    closeWith(rejected.status(), new Metadata(), CallOutcome.Origin.INTERCEPTOR);
                    return;
                } else if (r instanceof HookRunner.Failed<Message> failed && failed.mode() == FailureMode.CLOSED) {
                    lastRequest = in;
                    closeWith(failed.status(), new Metadata(), CallOutcome.Origin.INTERCEPTOR);
                    return;
                }
            }
            if (req != original) {
                bytes = req.toByteArray();
            }
        }
        forwarded = bytes;
        lastRequest = req;
        byte[] out = bytes;
        engine.router.route(plan.route(), method, bytes, req).whenComplete((t, err) -> {
            if (err != null) {
                Status s = Status.fromThrowable(err);
                closeWith(s, new Metadata(), s.getCode() == Status.Code.UNAVAILABLE ? CallOutcome.Origin.TRANSPORT
                        : CallOutcome.Origin.INTERCEPTOR);
            } else {
                startLeg(t, out);
            }
        });
    }

    private void startLeg(Target t, byte[] request) {
        synchronized (this) {
            if (closed) {
                return;
            }
            target = t;
            leg = Leg.create(t, plan.descriptor(), options, this, engine.listFailure);
            leg.start(PassThroughCall.forwardable(headers), request);
        }
    }

    // ---- runtime -> shim -> client -------------------------------------------------------------

    @Override
    public void onHeaders(Metadata h) {
        responses.execute(() -> {
            synchronized (this) {
                if (closed || headersSent) {
                    return;
                }
                headersSent = true;
                serverCall.sendHeaders(h);
            }
        });
    }

    @Override
    public void onMessage(byte[] message, int source) {
        responses.execute(() -> deliver(message, source));
    }

    @Override
    public void onClose(Status status, Metadata trailers, CallOutcome.Origin origin) {
        responses.execute(() -> {
            Target t = target;
            if (t != null && !engine.upstreams.single()) {
                engine.router.completed(method, forwarded, firstResponse, status, t);
            }
            closeWith(status, trailers, origin);
        });
    }

    private void deliver(byte[] message, int source) {
        if (isClosed()) {
            return;
        }
        if (plan.learns() && firstResponse == null) {
            firstResponse = message;
        }
        byte[] out = message;
        if (!plan.afters().isEmpty()) {
            out = runAfters(message);
            if (out == null) {
                return; // the call was failed
            }
        }
        boolean ready;
        synchronized (this) {
            if (closed) {
                return;
            }
            if (!headersSent) {
                headersSent = true;
                serverCall.sendHeaders(new Metadata());
            }
            serverCall.sendMessage(out);
            if (!method.serverStreaming()) {
                lastSent = out;
            }
            ready = serverCall.isReady();
            if (!ready) {
                pending.add(source);
            }
        }
        if (ready) {
            Leg l = leg();
            if (l != null) {
                l.requestMore(source);
            }
        }
    }

    /** The response after the after-hooks, or null when one of them failed the call. */
    private byte[] runAfters(byte[] message) {
        Message resp;
        try {
            resp = method.parseResponse(message);
        } catch (InvalidProtocolBufferException e) {
            if (plan.afters().stream().anyMatch(a -> a.who().mode() == FailureMode.CLOSED)) {
                failWithLeg(Status.INTERNAL.withDescription("cri-shim: the runtime's " + method.name()
                        + " response does not decode: " + e.getMessage()), CallOutcome.Origin.INTERCEPTOR);
                return null;
            }
            return message;
        }
        Message request = requestForHooks();
        Message original = resp;
        for (Chain.After a : plan.afters()) {
            Message in = resp;
            HookRunner.Result<Message> r = engine.hooks.run(a.who(), plan.fullName(), "after",
                    () -> java.util.Objects.requireNonNull(a.hook().after(this, request, in), "after-hook returned null"));
            if (r instanceof HookRunner.Ok<Message> ok) {
                resp = ok.value();
            } else if (r instanceof HookRunner.Rejected<Message> rejected) {
                failWithLeg(rejected.status(), CallOutcome.Origin.INTERCEPTOR);
                return null;
            } else if (r instanceof HookRunner.Failed<Message> failed && failed.mode() == FailureMode.CLOSED) {
                failWithLeg(failed.status(), CallOutcome.Origin.INTERCEPTOR);
                return null;
            }
        }
        return resp == original ? message : resp.toByteArray();
    }

    private Message requestForHooks() {
        Message m = lastRequest;
        if (m != null) {
            return m;
        }
        byte[] b = forwarded != null ? forwarded : requestBytes;
        try {
            m = method.parseRequest(b);
        } catch (InvalidProtocolBufferException e) {
            m = method.requestPrototype();
        }
        lastRequest = m;
        return m;
    }

    private void failWithLeg(Status status, CallOutcome.Origin origin) {
        closeWith(status, new Metadata(), origin);
        Leg l = leg();
        if (l != null) {
            l.cancel("cri-shim: an interceptor failed the call");
        }
    }

    private synchronized Leg leg() {
        return leg;
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    private void closeWith(Status status, Metadata trailers, CallOutcome.Origin origin) {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                serverCall.close(status, trailers);
            } catch (IllegalStateException e) {
                // cancelled meanwhile: nothing to send
            }
        }
        finish(status, origin);
    }

    private void finish(Status status, CallOutcome.Origin origin) {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        Target t = target;
        CallOutcome outcome = new CallOutcome(plan.fullName(), status.getCode(), status.getDescription(),
                Duration.ofNanos(System.nanoTime() - startNanos), origin, t == null ? List.of() : t.names());
        engine.observe(outcome);
        if (!plan.completions().isEmpty()) {
            try {
                engine.hooks.pool().execute(() -> runCompletions(outcome));
            } catch (RejectedExecutionException e) {
                log.atWarn().addKeyValue("method", plan.fullName()).log("no thread free for completion hooks; skipped");
            }
        }
    }

    private void runCompletions(CallOutcome outcome) {
        Message request = requestBytes == null ? method.requestPrototype() : requestForHooks();
        Optional<Message> response = Optional.empty();
        byte[] sent = lastSent;
        if (outcome.ok() && sent != null) {
            try {
                response = Optional.of(method.parseResponse(sent));
            } catch (InvalidProtocolBufferException e) {
                response = Optional.empty();
            }
        }
        Optional<Message> r = response;
        for (Chain.Completion c : plan.completions()) {
            engine.hooks.run(c.who(), plan.fullName(), "completed", () -> {
                c.hook().completed(this, request, r, outcome);
                return Boolean.TRUE;
            });
        }
    }

    // ---- CriCall -----------------------------------------------------------------------------

    @Override
    public CriMethod<?, ?> method() {
        return method;
    }

    @Override
    public Optional<String> header(String name) {
        if (name == null || name.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(headers.get(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    @Override
    public Optional<Duration> timeRemaining() {
        return deadline == null ? Optional.empty()
                : Optional.of(Duration.ofNanos(Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS))));
    }

    @Override
    public Optional<String> upstream() {
        Target t = target;
        return t == null || t.upstreams().size() != 1 ? Optional.empty() : Optional.of(t.upstreams().get(0).name());
    }
}
