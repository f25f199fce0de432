/**
 * The bench frame: every {@code nodekit bench ...} command measures ours and the peer named in its
 * issue in the same run, writes one {@link dev.nodekit.bench.BenchRecord} JSON file to
 * {@code bench/results/} and leaves BENCHMARKS.md to {@code nodekit bench report}. Speed targets
 * live here, never in timed unit tests.
 */
package dev.nodekit.bench;
