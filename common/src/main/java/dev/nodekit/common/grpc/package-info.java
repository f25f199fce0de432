/**
 * gRPC over unix domain sockets, the transport of CSI and CRI: client channels
 * ({@link dev.nodekit.common.grpc.UdsChannels}), the server ({@link dev.nodekit.common.grpc.UdsServer}),
 * the standard server interceptors ({@link dev.nodekit.common.grpc.StandardInterceptors}) and
 * proto-driven log redaction ({@link dev.nodekit.common.grpc.Redactor}).
 *
 * <h2>Typical server</h2>
 * <pre>{@code
 * Metrics metrics = Metrics.create();
 * UdsServer server = UdsServer.builder(Path.of("/var/lib/kubelet/plugins/nodekit.dev/csi.sock"))
 *         .addService(new CsiIdentityService(...))
 *         .interceptors(StandardInterceptors.standard(metrics,
 *                 InterceptorOptions.defaults().withQuietMethods("csi.v1.Identity/Probe")))
 *         .build()
 *         .start();
 * server.awaitTermination(); // returns after SIGTERM has drained the server
 * }</pre>
 *
 * <h2>Interceptor order (outermost first) and why</h2>
 * <ol>
 *   <li><b>Request id</b>: takes {@code x-request-id} if it is 1-64 chars of {@code [A-Za-z0-9._:-]}
 *       (anything else could forge log lines) or generates 12 hex digits; puts it in the gRPC
 *       {@code Context} ({@link dev.nodekit.common.grpc.RequestIds#current()}) and in the MDC key
 *       {@code request_id} around every listener callback (and {@code startCall}, where streaming
 *       handlers run), restoring the pooled thread's MDC afterwards; echoes it in the response
 *       headers, or in the trailers of a trailers-only (error) response. Outermost so that every
 *       later interceptor's log lines carry it.</li>
 *   <li><b>Access log</b>: exactly one line per call, on close or on cancellation, whichever comes
 *       first, with the status the client saw: a handler that answers after the deadline passed is
 *       logged DEADLINE_EXCEEDED, not OK. INFO, or DEBUG for successful calls of configured quiet
 *       methods (Probe). The first request message, redacted, is added only when the logger is at
 *       DEBUG. Outside the catch-all so it logs the INTERNAL the catch-all produces.</li>
 *   <li><b>Metrics</b>: {@code grpc_server_started_total}, {@code grpc_server_handled_total},
 *       {@code grpc_server_handling_seconds} (classic buckets 1 ms to 300 s) and
 *       {@code grpc_server_in_flight}, labelled {@code grpc_service}, {@code grpc_method},
 *       {@code grpc_code} as go-grpc-prometheus names them. Same final code as the log.</li>
 *   <li><b>Catch-all</b>: innermost, next to the handler. grpc-java answers UNKNOWN ("Application
 *       error processing RPC") to any exception, even a {@code StatusRuntimeException}, and the cause
 *       is easily lost. Here a thrown status is sent as itself; anything else becomes INTERNAL with a
 *       description naming the exception, its message (cut at 300 chars), the method and the request
 *       id, and the cause is logged once at ERROR. A handler that throws after answering is logged,
 *       never answered twice.</li>
 * </ol>
 * {@link dev.nodekit.common.grpc.UdsServer.Builder#interceptors} and
 * {@link io.grpc.ServerInterceptors#interceptForward} take this outermost-first order;
 * {@code ServerInterceptors.intercept} and {@code ServerBuilder.intercept} take the reverse.
 *
 * <h2>Server lifecycle</h2>
 * <ul>
 *   <li>Start: refuse a path that is not a socket (file, directory, symlink) and a socket that
 *       accepts connections (another instance is running); remove a socket that refuses them (left
 *       by a crash); create missing parents with mode 0750; bind; chmod the socket (default 0660).
 *       Only a refused connection counts as dead, so a socket is never deleted on a guess.</li>
 *   <li>Stop (shutdown hook on SIGTERM/SIGINT, or {@code close()}): {@code server.shutdown()} stops
 *       accepting (netty also unlinks the socket, so new clients get UNAVAILABLE at once) and sends
 *       GOAWAY; in-flight calls get the grace period (default 10 s, below kubelet's 30 s
 *       termination grace); then {@code shutdownNow()} cancels the rest and handler threads are
 *       interrupted; finally the socket file is deleted if it is still the one we bound (same inode).</li>
 *   <li>Threads: handlers run on a bounded pool (default 32 named daemon threads, idle ones time out)
 *       with an unbounded queue; HTTP/2 flow control and the few clients kubelet opens bound the queue
 *       in practice. One accept and two I/O epoll threads per server.</li>
 *   <li>Netty's per-connection "Unknown channel option 'SO_KEEPALIVE'" warning is avoided by removing
 *       that option, which means nothing on a unix socket, on both client and server.</li>
 * </ul>
 *
 * <h2>Redaction</h2>
 * Secrets are whatever the protos mark: {@code [(csi.v1.csi_secret) = true]} and
 * {@code [debug_redact = true]}. {@link dev.nodekit.common.grpc.Redactor} finds them through the
 * descriptors, caching per message type whether any secret is reachable (nested messages, lists,
 * map values, oneofs, cycles), masks secret values as {@code ***} (map keys stay visible), never
 * prints unknown fields or the payload of an {@code Any}, and bounds the text length.
 *
 * <h2>Known limits</h2>
 * <ul>
 *   <li>Calls to methods no service registers are answered UNIMPLEMENTED by grpc-java before any
 *       interceptor runs, so they are neither logged nor counted.</li>
 *   <li>For streaming calls only the first request message is captured for the DEBUG body.</li>
 *   <li>Between bind and chmod the socket has the mode the umask gives it (usually 0755, which no
 *       one but the owner can connect through); the 0750 parent directory covers the rest.</li>
 *   <li>grpc-java itself logs through {@code java.util.logging}, which is not routed to the
 *       key=value binding.</li>
 * </ul>
 */
package dev.nodekit.common.grpc;
