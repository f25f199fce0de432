/**
 * Real plugins as child processes, for the benchmarks and the integration tests: started through
 * the launcher {@code bin/nodekit} with its JVM flags (what production runs), probed until ready,
 * measured (RSS from {@code /proc/<pid>/status}), stopped with SIGTERM or killed with
 * {@code kill -9} to test crash recovery.
 */
package dev.nodekit.e2e;
