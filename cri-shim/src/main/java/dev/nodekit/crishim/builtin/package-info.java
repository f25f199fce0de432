/**
 * The built-in interceptors, each a provider of the SPI like any plug-in:
 * {@link dev.nodekit.crishim.builtin.AuditInterceptor} ({@code audit}: a JSON line per lifecycle
 * call, secrets redacted, fail-open), {@link dev.nodekit.crishim.builtin.MetricsInterceptor}
 * ({@code metrics}: per-RPC latency and errors, upstream health; observes only, so it decodes
 * nothing) and {@link dev.nodekit.crishim.builtin.PolicyInterceptor} ({@code policy}: reject, add,
 * cap; fail-closed). Routing is not here: it is the end of the chain, see {@link dev.nodekit.crishim}.
 *
 * <p>Typical chain: {@code metrics} first (outermost: it observes the final status of every call,
 * rejections included), then {@code policy}, then {@code audit} (its completion hooks see the
 * request as policy changed it and the final outcome whatever the position), then plug-ins.
 */
package dev.nodekit.crishim.builtin;
