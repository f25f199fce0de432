package dev.nodekit.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.nodekit.common.config.ConfigException;
import dev.nodekit.common.config.ConfigLoader;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.Suite;
import dev.nodekit.conformance.SuiteReport;
import dev.nodekit.conformance.SuiteRunner;
import picocli.CommandLine.Option;

/** Options every {@code nodekit conformance} suite takes (a picocli mixin), and the shared run/list logic. */
final class ConformanceOptions {
    @Option(names = "--junit", paramLabel = "FILE", description = "Also write JUnit XML (check ids as test names).")
    Path junit;

    @Option(names = "--only", paramLabel = "REGEX", description = "Run only checks whose id matches.")
    String only;

    @Option(names = "--skip", paramLabel = "REGEX", description = "Do not run checks whose id matches.")
    String skip;

    @Option(names = "--strict", description = "A missing host requirement fails instead of skipping "
            + "(default: NODEKIT_STRICT).")
    Boolean strict;

    @Option(names = "--check-timeout", paramLabel = "SECONDS", defaultValue = "180",
            description = "Bound on one check (default: ${DEFAULT-VALUE}).")
    long checkTimeoutSeconds;

    @Option(names = "--list", description = "List the selected checks and exit.")
    boolean list;

    RunOptions options() {
        RunOptions o = RunOptions.defaults().withOnly(only).withSkip(skip)
                .withCheckTimeout(Duration.ofSeconds(checkTimeoutSeconds));
        return strict == null ? o : o.withStrict(strict);
    }

    /** Lists or runs {@code suite}, prints the table as results come, returns the exit code. */
    <T> int runOrList(Suite<T> suite, Callable<T> target, PrintStream out) throws Exception {
        RunOptions o = options();
        if (list) {
            suite.checks().stream().filter(c -> o.selects(c.id()))
                    .forEach(c -> out.printf("%-52s %-34s %s%n", c.id(), c.specSection(), c.description()));
            return 0;
        }
        T t = target.call();
        try {
            out.println(SuiteReport.header());
            SuiteReport report = new SuiteRunner(o).run(suite, t, r -> out.println(SuiteReport.row(r)));
            out.println(report.summaryLine());
            if (junit != null) {
                report.writeJUnitXml(junit);
            }
            if (report.results().isEmpty()) {
                out.println("no check selected (see --only/--skip)");
            }
            return report.exitCode();
        } finally {
            if (t instanceof AutoCloseable c) {
                c.close();
            }
        }
    }

    /** Reads a flat YAML/JSON map of strings; errors name the file, line and key. */
    static Map<String, String> readMap(Path file, String flag) throws ConfigException {
        return Map.copyOf(ConfigLoader.load(file, StringMap.class));
    }

    /** A map of strings as a concrete type Jackson can bind with locations. */
    static final class StringMap extends LinkedHashMap<String, String> {
        private static final long serialVersionUID = 1L;
    }
}
