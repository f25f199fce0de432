package dev.nodekit.conformance;

import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.opentest4j.TestAbortedException;

/**
 * Runs a suite inside JUnit as dynamic tests, one per check, named by the check id: PASS passes,
 * SKIP aborts with the reason (reported as skipped), FAIL fails with the reason. The outcome rules
 * are the runner's, so {@code mvn verify} and {@code nodekit conformance} agree.
 */
public final class JUnitSuites {
    private JUnitSuites() {
    }

    /** One dynamic test per selected check; the target is fetched lazily, once per check. */
    public static <T> Stream<DynamicTest> dynamicTests(Suite<T> suite, Supplier<T> target, RunOptions options) {
        SuiteRunner runner = new SuiteRunner(options);
        return suite.checks().stream()
                .filter(c -> options.selects(c.id()))
                .map(c -> DynamicTest.dynamicTest(c.id(), () -> {
                    CheckResult r = runner.runOne(c, target.get());
                    switch (r.outcome()) {
                        case PASS -> { }
                        case SKIP -> throw new TestAbortedException(c.id() + " skipped: " + r.reason());
                        case FAIL -> throw new AssertionError(c.id() + " [" + c.specSection() + "]: " + r.reason());
                        default -> throw new IllegalStateException(r.outcome().toString());
                    }
                }));
    }
}
