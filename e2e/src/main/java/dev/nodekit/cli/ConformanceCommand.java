package dev.nodekit.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.Suite;
import dev.nodekit.conformance.SuiteReport;
import dev.nodekit.conformance.SuiteRunner;
import dev.nodekit.conformance.csi.CsiSuites;
import dev.nodekit.conformance.csi.CsiTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code nodekit conformance csi|cni|cri}: run a conformance suite against any plugin. */
@Command(name = "conformance", description = "Check a plugin (ours or anyone's) against the spec.",
        mixinStandardHelpOptions = true, subcommands = {ConformanceCommand.Csi.class})
public final class ConformanceCommand {

    /** Options every suite takes. */
    static final class Common {
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
    }

    /** {@code nodekit conformance csi}. */
    @Command(name = "csi", mixinStandardHelpOptions = true,
            description = "Run the CSI suite against a CSI endpoint (unix:///path.sock).")
    static final class Csi implements Callable<Integer> {
        @Mixin
        Common common;

        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--endpoint", required = true, paramLabel = "E", description = "Node (or all-in-one) endpoint.")
        String endpoint;

        @Option(names = "--controller-endpoint", paramLabel = "E", description = "Controller endpoint, if separate.")
        String controllerEndpoint;

        @Option(names = "--staging-dir", paramLabel = "D", description = "Parent of staging paths.")
        Path stagingDir;

        @Option(names = "--target-dir", paramLabel = "D", description = "Parent of publish targets.")
        Path targetDir;

        @Option(names = "--params", paramLabel = "FILE", description = "YAML map of CreateVolume parameters.")
        Path params;

        @Option(names = "--secrets", paramLabel = "FILE", description = "YAML map of secrets sent with every call.")
        Path secrets;

        @Option(names = "--volume-size", paramLabel = "BYTES", description = "Size of test volumes.")
        Long volumeSize;

        @Option(names = "--access-type", paramLabel = "mount|block", description = "Access type of test volumes.")
        String accessType;

        @Option(names = "--fs-type", paramLabel = "T", description = "Filesystem of mount volumes.")
        String fsType;

        @Override
        public Integer call() throws Exception {
            CsiTarget.Config d = CsiTarget.Config.of(endpoint);
            CsiTarget.AccessType at = d.accessType();
            if (accessType != null) {
                at = switch (accessType) {
                    case "mount" -> CsiTarget.AccessType.MOUNT;
                    case "block" -> CsiTarget.AccessType.BLOCK;
                    default -> throw new ParameterException(spec.commandLine(),
                            "--access-type must be mount or block, got '" + accessType + "'");
                };
            }
            CsiTarget.Config config = new CsiTarget.Config(endpoint, Optional.ofNullable(controllerEndpoint),
                    stagingDir != null ? stagingDir : d.stagingDir(), targetDir != null ? targetDir : d.targetDir(),
                    params != null ? readMap(params, "--params") : Map.of(),
                    secrets != null ? readMap(secrets, "--secrets") : Map.of(),
                    volumeSize != null ? volumeSize : d.volumeSize(), at, fsType != null ? fsType : d.fsType(),
                    d.callTimeout());
            return common.runOrList(CsiSuites.all(), () -> CsiTarget.connect(config), System.out);
        }
    }

    /** Reads a flat YAML/JSON map of strings; the error names the file and the offending key. */
    static Map<String, String> readMap(Path file, String flag) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
        } catch (IOException e) {
            throw new IOException(flag + " " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> out = new LinkedHashMap<>();
        if (root == null || root.isNull() || root.isMissingNode()) {
            return out;
        }
        if (!root.isObject()) {
            throw new IOException(flag + " " + file + ": expected a map of string keys to string values");
        }
        var it = root.fields();
        while (it.hasNext()) {
            var e = it.next();
            if (!e.getValue().isValueNode()) {
                throw new IOException(flag + " " + file + ": key '" + e.getKey() + "' must have a string value");
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }
}
