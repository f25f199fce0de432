/**
 * Prometheus metrics (client_java 1.x) for nodekit programs.
 *
 * <p>Design notes:
 * <ul>
 *   <li>One {@link dev.nodekit.common.metrics.Metrics} per program, created in {@code main} and
 *       injected; nothing records into a static registry except through the explicit
 *       {@link dev.nodekit.common.metrics.Metrics#defaultMetrics()}. Tests therefore each scrape
 *       their own registry.</li>
 *   <li>Instrument families register once per {@code Metrics} via
 *       {@link dev.nodekit.common.metrics.Metrics#instruments}, because a registry rejects a second
 *       metric of the same name (two gRPC servers in one program share the gRPC metrics).</li>
 *   <li>{@link dev.nodekit.common.metrics.MetricsServer} is optional ({@code --metrics-address});
 *       address syntax and validation live in {@link dev.nodekit.common.metrics.ListenAddress} so a
 *       bad flag fails at startup with a message naming what is wrong.</li>
 *   <li>JVM metrics are opt-in ({@link dev.nodekit.common.metrics.Metrics#registerJvmMetrics()}):
 *       daemons want them, the per-pod CNI executable must not pay for loading them.</li>
 * </ul>
 */
package dev.nodekit.common.metrics;
