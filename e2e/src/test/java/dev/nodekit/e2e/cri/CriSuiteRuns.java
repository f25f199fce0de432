package dev.nodekit.e2e.cri;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.opentest4j.TestAbortedException;

import dev.nodekit.conformance.Check;
import dev.nodekit.conformance.CheckResult;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.SuiteReport;
import dev.nodekit.conformance.SuiteRunner;
import dev.nodekit.conformance.cri.CriChecks;
import dev.nodekit.conformance.cri.CriTarget;
import dev.nodekit.conformance.cri.RpcTimings;

/**
 * Runs the CRI suite against an endpoint inside JUnit, one dynamic test per check, stricter than
 * {@link dev.nodekit.conformance.JUnitSuites}: against nodekit's own test runtimes the only
 * acceptable SKIP is one that needs a registry; any other skip fails. The target is opened on the
 * first check and closed (its per-RPC latencies printed) when JUnit closes the stream.
 *
 * <pre>{@code
 * @TestFactory Stream<DynamicTest> direct(ContainerdFixture c) { return CriSuiteRuns.dynamicTests("direct", c.criConfig()); }
 * @TestFactory Stream<DynamicTest> viaShim(ContainerdFixture c) {
 *     return CriSuiteRuns.dynamicTests("via-shim", c.criConfig().withEndpoint(shim.endpoint())); }
 * }</pre>
 */
public final class CriSuiteRuns {
    /** The skip reasons allowed against a complete local runtime: things that need a registry. */
    public static final Set<String> REGISTRY_SKIPS = Set.of(CriChecks.PULL_SKIP);

    private CriSuiteRuns() {
    }

    /** One dynamic test per check of the CRI suite against {@code config}; {@code label} names the run in output. */
    public static Stream<DynamicTest> dynamicTests(String label, CriTarget.Config config) {
        return dynamicTests(label, config, RunOptions.defaults(), new ArrayList<>());
    }

    /** As {@link #dynamicTests(String, CriTarget.Config)}, collecting each result into {@code results}. */
    public static Stream<DynamicTest> dynamicTests(String label, CriTarget.Config config, RunOptions options,
            List<CheckResult> results) {
        SuiteRunner runner = new SuiteRunner(options);
        AtomicReference<CriTarget> target = new AtomicReference<>();
        long start = System.nanoTime();
        return CriChecks.suite().checks().stream().filter(c -> options.selects(c.id()))
                .map(c -> DynamicTest.dynamicTest(c.id(), () -> {
                    CriTarget t = target.updateAndGet(x -> x != null ? x : CriTarget.connect(config));
                    CheckResult r = runner.runOne(c, t);
                    synchronized (results) {
                        results.add(r);
                    }
                    judge(c, r);
                }))
                .onClose(() -> {
                    CriTarget t = target.getAndSet(null);
                    if (t != null) {
                        print(label, config, t.timings(), new SuiteReport("cri", results,
                                Duration.ofNanos(System.nanoTime() - start)));
                        t.close();
                    }
                });
    }

    /** Runs the whole suite against {@code config} outside JUnit's tree (to compare two runs). */
    public static SuiteReport run(String label, CriTarget.Config config, RunOptions options) {
        try (CriTarget t = CriTarget.connect(config)) {
            SuiteReport r = new SuiteRunner(options).run(CriChecks.suite(), t);
            print(label, config, t.timings(), r);
            return r;
        }
    }

    /** Fails unless both runs ran the same checks with the same outcomes and the same reasons for skips. */
    public static void assertSameOutcomes(SuiteReport expected, SuiteReport actual) {
        Map<String, String> a = outcomes(expected);
        Map<String, String> b = outcomes(actual);
        if (!a.equals(b)) {
            List<String> diff = new ArrayList<>();
            for (String id : new java.util.TreeSet<>(union(a.keySet(), b.keySet()))) {
                if (!java.util.Objects.equals(a.get(id), b.get(id))) {
                    diff.add(id + ": " + a.get(id) + " vs " + b.get(id));
                }
            }
            throw new AssertionError("CRI suite outcomes differ: " + String.join("; ", diff));
        }
    }

    private static Set<String> union(Set<String> x, Set<String> y) {
        Set<String> u = new java.util.HashSet<>(x);
        u.addAll(y);
        return u;
    }

    private static Map<String, String> outcomes(SuiteReport r) {
        return r.results().stream().collect(Collectors.toMap(CheckResult::id,
                x -> x.outcome() + (x.outcome() == dev.nodekit.conformance.Outcome.SKIP ? " (" + x.reason() + ")" : ""),
                (p, q) -> p, TreeMap::new));
    }

    private static void judge(Check<CriTarget> c, CheckResult r) {
        switch (r.outcome()) {
            case PASS -> { }
            case SKIP -> {
                if (!REGISTRY_SKIPS.contains(r.reason())) {
                    throw new AssertionError(c.id() + " skipped for a reason that is not a registry: " + r.reason());
                }
                throw new TestAbortedException(c.id() + " skipped: " + r.reason());
            }
            case FAIL -> throw new AssertionError(c.id() + " [" + c.specSection() + "]: " + r.reason());
            default -> throw new IllegalStateException(r.outcome().toString());
        }
    }

    private static void print(String label, CriTarget.Config config, RpcTimings timings, SuiteReport report) {
        StringBuilder b = new StringBuilder();
        b.append("CRI suite [").append(label).append("] against ").append(config.endpoint()).append(": ")
                .append(report.summaryLine()).append(" in ").append(report.duration().toMillis()).append(" ms\n");
        for (CheckResult r : report.results()) {
            b.append("  ").append(SuiteReport.row(r)).append('\n');
        }
        b.append("  per-RPC latency (as the suite saw it):\n");
        for (RpcTimings.Stats s : timings.stats()) {
            b.append("    ").append(s.line()).append('\n');
        }
        System.out.print(b);
    }
}
