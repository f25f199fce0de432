/**
 * nodekit's CNI toolkit, the Java counterpart of containernetworking's {@code skel} and {@code invoke}:
 * what a plugin author implements ({@link dev.nodekit.cni.api.CniPlugin}, one interface) and what
 * runs it ({@link dev.nodekit.cni.api.CniDispatcher}). The wire types come from
 * {@code dev.nodekit.spec.cni}.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>One door to the runtime.</b> The dispatcher takes the environment, stdin, stdout and stderr
 *       as parameters; only a {@code main} passes the real ones. It owns the checklist (variables,
 *       version negotiation, VERSION, result conversion, the error object on stdout, exit 1), so a
 *       plugin only ever sees a validated {@link dev.nodekit.cni.api.CniRequest} and reports failure
 *       by throwing {@code CniException} with the spec's code. Anything else thrown is code 999, as
 *       in Go's skel.</li>
 *   <li><b>Versions.</b> Plugins support 0.3.0 to 1.1.0 by default. The result a plugin returns is held
 *       in the 1.x model and printed in the request's version; attributes that version cannot express
 *       are dropped (libcni's behaviour). CHECK needs 0.4.0, STATUS and GC 1.1.0 (code 1 otherwise).</li>
 *   <li><b>Delegation.</b> {@link dev.nodekit.cni.api.Delegates} gives a plugin its IPAM as a
 *       {@code CniPlugin}: an exec'd binary from {@code CNI_PATH} ({@link dev.nodekit.cni.api.ExecPlugin},
 *       same environment with {@code CNI_COMMAND} replaced, the caller's stdin bytes unchanged, stderr
 *       passed through, the delegate's error code preserved, bounded by a timeout that answers code 11),
 *       or a plugin of the same JVM when one is registered for that type, which saves a second JVM
 *       start per call. The caller undoes a successful delegate ADD with its DEL when it fails later.</li>
 *   <li><b>Start-up cost.</b> An executable serves one call, so what it loads is latency: no lambdas,
 *       method references or record-generated methods on the success path, string concatenation
 *       compiled inline ({@code -XDstringConcat=inline}), and SLF4J initialised only when something is
 *       logged ({@link dev.nodekit.cni.api.CniLog}). Logs go to stderr or {@code NODEKIT_LOG_FILE},
 *       never stdout.</li>
 * </ul>
 * Allowed imports: {@code dev.nodekit.spec.cni}, {@code dev.nodekit.common.exec}, {@code dev.nodekit.cni.net}
 * (interface name rules), SLF4J. Never gRPC, Netty, jackson-databind or OSHI.
 */
package dev.nodekit.cni.api;
