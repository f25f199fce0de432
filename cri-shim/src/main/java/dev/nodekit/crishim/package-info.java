/**
 * The CRI shim: a proxy on kubelet's runtime endpoint that forwards every CRI call to one or more
 * runtimes (containerd), through a chain of interceptors. Entry points: {@link
 * dev.nodekit.crishim.CriShimCommand} ({@code nodekit cri-shim}), {@link dev.nodekit.crishim.CriShim}
 * (start/close), {@link dev.nodekit.crishim.CriShimConfig} (the one config record). The SPI for
 * interceptors is {@link dev.nodekit.crishim.api}; the built-in interceptors are in
 * {@link dev.nodekit.crishim.builtin}. Everything else here is package-private.
 *
 * <h2>Forwarding: frames unless someone reads</h2>
 * At start-up each CRI method gets a plan ({@code MethodPlan}): <b>pass-through</b> (no hook, one
 * upstream or a method routed to the default) or <b>intercepted</b>. How a pass-through call is
 * forwarded is the config's {@code passThrough:}.
 *
 * <h3>{@code passThrough: frames} (default): an HTTP/2 relay in front of the gRPC server</h3>
 * The public socket is served by {@code FrameFront}, an HTTP/2 server written on the Netty that
 * grpc-netty-shaded carries: epoll unix sockets and its HTTP/2 <em>frame</em> codec (frame reader
 * and writer, HPACK), under a connection layer of our own ({@code FrameLink}: streams, both flow
 * controls, SETTINGS, PING, GOAWAY), kept to what a relay needs. Netty's connection API
 * ({@code Http2ConnectionHandler}: stream objects and listeners, a flow controller queue and a
 * promise per frame) cost about 14 µs of CPU per call on the I/O thread, which sits on the latency
 * path; the first frame relay used it. For each stream it reads {@code :path} and looks it up in a
 * table made once from the plans:
 * <ul>
 *   <li>a pass-through method, or a name the shim does not know that looks like
 *       {@code /service/method}: the stream is relayed ({@code FrameRelay}) to a stream on one
 *       shared HTTP/2 connection to the runtime ({@code FrameBackend}). HEADERS, DATA, trailers and
 *       RST_STREAM go across as they arrive; no gRPC message is framed, decoded or copied, no
 *       grpc-java call object exists, and request and response run on the one I/O thread. Headers
 *       are HPACK-decoded and re-encoded (the tables are per connection) but not changed:
 *       {@code grpc-timeout} reaches the runtime as kubelet sent it, so the runtime enforces the
 *       deadline and kubelet's own timer cancels (RST_STREAM, passed on) if the runtime hangs.
 *       What containerd answers (headers, trailers, status, message, RST_STREAM) reaches kubelet
 *       unchanged; an RST_STREAM after the runtime's trailers (grpc-go's NO_ERROR "stop sending") is
 *       not passed on, as it would overtake response frames still queued.</li>
 *   <li>anything else (a method an interceptor reads, routing that needs a field): the stream is
 *       relayed the same way to the shim's gRPC server (below), listening on a hidden socket beside
 *       the public one ({@code .NAME.grpc}, mode 0600). Intercepted calls are lifecycle calls that
 *       take milliseconds; the extra local hop costs tens of microseconds.</li>
 * </ul>
 * Flow control is end to end: DATA read on one side is acknowledged to its sender (WINDOW_UPDATE,
 * batched at half a window) only once it was written to the other side and that socket's buffer is
 * below its high-water mark (else when it drains), so the shim holds at most a stream window
 * (512 KiB) per call and a connection window (16 MiB) per connection, and a client that stops
 * reading stops the runtime. DATA beyond the receiver's windows waits in its stream, in order with
 * the trailers behind it. A peer that sends past the windows we granted gets FLOW_CONTROL_ERROR. 16 MiB messages pass as a run of DATA frames. A call that arrives while the
 * runtime connection is being made waits for it (its frames unacknowledged); when the runtime
 * cannot be reached it gets a trailers-only UNAVAILABLE at once (grpc-status 14, a message naming
 * the runtime and its socket), also when the connection drops mid-call (trailers after the
 * headers already sent). The connection is made again on the next call and every 200 ms without
 * calls; a GOAWAY from the runtime moves new calls to a new connection while the old one finishes
 * its streams. Observers (the metrics interceptor) hear of every relayed call from its trailers'
 * {@code grpc-status} and {@code grpc-message}, or from an RST_STREAM (CANCELLED, or
 * DEADLINE_EXCEEDED when it came after the request's own timeout), with the same metric names as
 * the gRPC path; the calls relayed to the gRPC server are observed there, once. Relayed frames
 * are flushed once per read per connection, so a request's HEADERS and DATA leave in one write, as
 * do a response's HEADERS, DATA and trailers, and before the acknowledgement of grpc-go's BDP PING
 * that comes with nearly every response (acknowledged first, it put a write and a wake-up of the
 * runtime ahead of kubelet's answer).
 *
 * <h3>{@code passThrough: grpc}: every call through grpc-java</h3>
 * The shim's first design, kept to compare (the bench runs both) and as a fallback. The gRPC server
 * listens on the public socket and has no services, only a fallback registry
 * ({@code ShimRegistry}) that answers every method name, as grpc-java's {@code GrpcProxy} does:
 * the 41 CRI v1 methods and any name a newer kubelet sends. Messages are {@code byte[]}
 * ({@code RawMarshaller}). Pass-through calls are relayed by {@code PassThroughCall} between a
 * server call and a client call (headers, every message, half-close, trailers, status, deadline,
 * cancellation, flow control); each costs grpc-java's per-call machinery twice (stream set-up,
 * HPACK, framing, listeners), about 85 µs of CPU per Version on this machine's I/O thread.
 *
 * <h3>The gRPC server (both modes)</h3>
 * Nothing is parsed unless an interceptor registered a typed hook for that method, or routing over
 * several runtimes needs a field. An <b>intercepted</b> call ({@code InterceptedCall}) collects the
 * single request, decodes it if a before-hook or the router needs it, runs the before-hooks (on
 * the hook pool), re-encodes it only if a hook returned a different message (identity means
 * untouched, unknown fields and all), routes it, forwards it, and runs each response message
 * through the after-hooks (decoded only if there are some).
 *
 * On the gRPC server, request headers go upstream as they came (trace context, binary headers), minus
 * {@code grpc-timeout}, which the deadline replaces: the upstream call carries the client's own
 * deadline, so time spent in the shim counts against it. Response headers, trailers, status code and
 * description come back as the runtime sent them; only a status the shim's own connection produced
 * (runtime unreachable) gets a description naming the runtime and its socket. UNIMPLEMENTED from the
 * runtime reaches kubelet unchanged, so its fallbacks (RuntimeConfig, GetContainerEvents, Stream*)
 * work. Exec/Attach/PortForward URLs are response fields like any other: returned untouched, and no
 * stream byte crosses the shim. Messages up to 16 MiB pass both ways (UdsServer, UdsChannels).
 *
 * <h2>Interceptor order</h2>
 * The config's {@code interceptors:} list is the chain, outermost first (without a config file:
 * {@code [metrics]}). For one call:
 * <ol>
 *   <li>before-hooks of the method, in chain order, each getting the request as the previous one
 *       left it; a rejection ends the call there (later interceptors and the runtime never see it);</li>
 *   <li>routing (below): not an interceptor but the end of the chain, so interceptors see and may
 *       change a request before its runtime is chosen (a policy that sets the routing annotation
 *       steers the pod), and a rejected call never reaches any runtime;</li>
 *   <li>the runtime;</li>
 *   <li>after-hooks, in reverse chain order (the innermost sees the runtime's response first);</li>
 *   <li>the client gets its answer;</li>
 *   <li>observers ({@code everyCall}, inline, for every call including raw and unknown ones) and
 *       completion hooks (off the call path, on the hook pool), both in reverse chain order.</li>
 * </ol>
 * Failure handling per interceptor: each hook call runs on a bounded pool (256 threads, no queue)
 * while the call waits at most the interceptor's budget (default 200 ms). A {@code CriRejection} is
 * the interceptor working: the call ends with its status, whatever the mode. Anything else thrown,
 * a null returned, a budget overrun or a full pool is a failure: fail-open logs (at most once per
 * 10 s per interceptor), counts ({@code cri_shim_interceptor_failures_total}) and goes on without
 * that interceptor's change; fail-closed ends the call with INTERNAL (threw) or UNAVAILABLE (time or
 * threads ran out), the description naming the interceptor, method and stage. A hook that hangs
 * costs a pool thread, never the call.
 *
 * <h2>Routing design (several upstreams)</h2>
 * {@code upstreams:} names the runtimes; the first (or {@code routing.defaultUpstream}) is the
 * default. With one upstream none of this runs. {@code Router} gives every CRI method a route:
 * <ul>
 *   <li><b>RunPodSandbox</b>: the upstream named by the pod annotation {@code routing.annotation}
 *       (an unknown name is INVALID_ARGUMENT), else the one {@code routing.runtimeHandlers} maps the
 *       RuntimeClass handler to, else the default. The answer's sandbox id is remembered.</li>
 *   <li><b>Calls naming a pod or container id</b> (CreateContainer, Start/Stop/Remove*, *Status,
 *       ExecSync, Exec, Attach, PortForward, stats, UpdateContainerResources...): the upstream the
 *       id map says. The id is read from the request bytes ({@code WireFields}) without decoding it.
 *       CreateContainer's answer adds the container id; successful removals drop ids.</li>
 *   <li><b>The id map</b> ({@code IdMap}) is memory only, and rebuilt rather than persisted: each
 *       time an upstream connects (at start, after a shim restart, after a runtime restart) its
 *       ListPodSandbox and ListContainers are read into the map; an id the map does not know makes
 *       the shim list every upstream once (shared by concurrent misses, at most once a second) before
 *       routing. An id nobody has goes to the default, which answers NotFound. An id unknown while
 *       some runtime cannot be listed is UNAVAILABLE, never NotFound: kubelet must not conclude that
 *       a pod on an unreachable runtime is gone.</li>
 *   <li><b>List calls</b> (ListPodSandbox, ListContainers, List*Stats, ListPodSandboxMetrics) go to
 *       every upstream and the answers are concatenated as bytes: their messages have one repeated
 *       field, and protobuf encodes the merge of two such messages as their concatenation, so lists
 *       merge without decoding. ListMetricDescriptors is decoded and merged by name. A failing
 *       upstream fails the List call ({@code listFailure: FAIL}, the default; kubelet keeps its view)
 *       or is left out ({@code SKIP}).</li>
 *   <li><b>Streams</b>: Stream* calls are fanned out and interleaved, ending when all have ended;
 *       GetContainerEvents is fanned out and ends when any runtime ends it (containerd 1.6 answers
 *       UNIMPLEMENTED at once, and kubelet then falls back to relisting, which is right: events
 *       from only some runtimes would be wrong).</li>
 *   <li><b>Version, Status, RuntimeConfig</b> and unknown methods: the default upstream (kubelet
 *       sees one runtime). <b>UpdateRuntimeConfig</b>: every upstream.</li>
 *   <li><b>ImageService</b>: ListImages, ImageFsInfo, StreamImages to {@code routing.images.upstream}
 *       (default: the default upstream); ImageStatus, PullImage and RemoveImage to the upstream the
 *       ImageSpec's runtime handler maps to, else the image upstream; with
 *       {@code images.replicate: true}, PullImage and RemoveImage go to every upstream (the image
 *       upstream's answer counts, any failure fails), so a pod routed anywhere finds its image.</li>
 * </ul>
 *
 * <h2>Robustness</h2>
 * <ul>
 *   <li>The socket is bound before any runtime is reachable; until one is, calls fail at once with
 *       UNAVAILABLE (wait-for-ready is off; no retry: kubelet retries).</li>
 *   <li>{@code Upstreams} ticks every 200 ms: it keeps each channel connecting, and when grpc-java
 *       sits in its reconnect backoff (which grows to 2 minutes) while the runtime's socket accepts
 *       connections again, it resets the backoff. A runtime that comes back is used within a tick.</li>
 *   <li>A restarted shim takes over the socket a killed one left (UdsServer removes a socket nobody
 *       serves) and needs no state: the id map rebuilds itself from the runtimes.</li>
 *   <li>SIGTERM: stop accepting, let in-flight calls finish for the grace period (default 10 s),
 *       then close the runtime connections, the interceptors and the plug-in class loader. With
 *       frames, the front sends GOAWAY on every kubelet connection and waits for its streams first
 *       (intercepted ones are still served behind it), then the gRPC server stops.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * One epoll I/O thread shared by the frame front, its backend connections, the gRPC server and its
 * upstream channels; the upstream monitor (1), the id map refresher (1), and the hook pool (0-256,
 * idle threads exit after 60 s). Pass-through calls never leave the I/O thread, and the frame
 * front's state is touched by it alone (no locks). In an intercepted call, everything that touches
 * the server call or starts/cancels the upstream call holds the call's lock; the fan-out leg decides
 * under its own lock but calls back outside it, so the two locks are always taken in the same order.
 *
 * <h2>Known limits</h2>
 * <ul>
 *   <li>Typed hooks exist for the 41 methods of cri-api v0.36; newer methods are forwarded and
 *       observed but cannot be decoded until the protos are updated.</li>
 *   <li>Hooks on a method make every call of it decode (and re-encode if changed): a hook on
 *       ListContainers costs the node's hot path.</li>
 *   <li>The id map forgets nothing on refresh; an id whose pod was removed behind the shim's back
 *       stays mapped to its runtime, which answers NotFound for it.</li>
 *   <li>A fanned-out Stream* call that fails after some messages were sent has already delivered
 *       them; kubelet discards partial streams (KEP-5825).</li>
 *   <li>Frames: all pass-through calls share one connection to the runtime, as HTTP/2 means them
 *       to; a call whose client stops reading holds up to 512 KiB of its 16 MiB window until it is
 *       read, cancelled or its deadline passes, so 32 such calls at once would stall the others (the
 *       gRPC path's channel had the same property with a 1 MiB window).</li>
 *   <li>Frames: messages are not decoded, so the 16 MiB limit is the runtime's (containerd answers
 *       RESOURCE_EXHAUSTED above it), not the shim's; the gRPC path enforces it itself.</li>
 *   <li>Frames: when the runtime advertises a limit on concurrent streams and it is reached, a
 *       further pass-through call fails with UNAVAILABLE instead of queueing (containerd sets no
 *       limit). The latency the metrics record for a relayed call runs from its HEADERS to its
 *       trailers, both as the shim read them.</li>
 *   <li>Frames: the connection layer enforces the windows it grants, stream-id order, the client
 *       preface, a 1 MiB header list, at most 2 empty DATA frames in a row and at most 10,000 of
 *       its own answers (PING and SETTINGS acknowledgements, resets) queued on a peer that does not
 *       read, as Netty's handler did. A stream error resets that stream only; the frames behind it in
 *       the same read are served. It advertises no limit on concurrent streams and has no
 *       rapid-reset limit (kubelet cancels probes; the socket is 0660), does not time out a SETTINGS
 *       the peer never acknowledges, sends no keepalive PING (a unix socket is closed when its peer
 *       dies) and ignores PRIORITY. The peer's header list limit is left to the peer to enforce per
 *       stream. A queued DATA frame keeps the read buffer it came in alive until it is written.</li>
 * </ul>
 */
package dev.nodekit.crishim;
