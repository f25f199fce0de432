/**
 * The interceptor SPI of the CRI shim: what a plug-in implements and what it is given.
 *
 * <ul>
 *   <li>{@link dev.nodekit.crishim.api.CriInterceptorProvider}: found by {@link java.util.ServiceLoader}
 *       in the jars of the config's {@code pluginPath} (or built in); makes one
 *       {@link dev.nodekit.crishim.api.CriInterceptor} per config entry, reading its settings with
 *       {@link dev.nodekit.crishim.api.InterceptorContext#settings} (strict binding, errors pointing
 *       into the config file).</li>
 *   <li>{@link dev.nodekit.crishim.api.CriInterceptor#register}: declares typed hooks per RPC, keyed
 *       by {@link dev.nodekit.crishim.api.CriMethods}: before (change or reject the request), after
 *       (change or reject the response), completed (see the finished call), and observers of every
 *       call.</li>
 *   <li>{@link dev.nodekit.crishim.api.CriRejection}: refuse a call on purpose with a status.</li>
 *   <li>{@link dev.nodekit.crishim.api.FailureMode}: what a hook that throws or overruns its budget
 *       means, chosen per config entry.</li>
 * </ul>
 *
 * <h2>A plug-in</h2>
 * <pre>{@code
 * public final class DenyLatest implements CriInterceptorProvider {
 *     public String type() { return "deny-latest"; }
 *     public CriInterceptor create(InterceptorContext ctx) {
 *         return hooks -> hooks.before(CriMethods.CREATE_CONTAINER, (call, req) -> {
 *             if (req.getConfig().getImage().getImage().endsWith(":latest")) {
 *                 throw new CriRejection(Status.Code.PERMISSION_DENIED,
 *                         "deny-latest: image " + req.getConfig().getImage().getImage() + " has no pinned tag");
 *             }
 *             return req;
 *         });
 *     }
 * }
 * }</pre>
 * Packaged with {@code META-INF/services/dev.nodekit.crishim.api.CriInterceptorProvider} naming the
 * class, dropped into a directory on {@code pluginPath}, and listed in the config as
 * {@code - type: deny-latest}. Plug-ins are compiled against this package, the generated CRI
 * messages ({@code dev.nodekit.spec.cri.v1}), protobuf, grpc-api ({@code Status}) and
 * {@code dev.nodekit.common.config}; they run in a class loader whose parent is the shim's.
 *
 * <h2>Rules for hooks</h2>
 * Hooks are called concurrently from many threads. Messages are immutable: return the same
 * instance to leave a message alone (it is then forwarded as the original bytes) or a changed copy.
 * Hooks run within a time budget on a pool thread; they may block (a policy lookup), but a hook
 * that routinely needs more than its budget fails. Observers run on I/O threads and must not block.
 * See {@link dev.nodekit.crishim} for the order in which hooks run.
 */
package dev.nodekit.crishim.api;
