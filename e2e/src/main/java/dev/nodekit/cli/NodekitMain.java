package dev.nodekit.cli;

import dev.nodekit.bench.BenchCommand;
import dev.nodekit.common.cli.BuildInfo;
import dev.nodekit.common.cli.VersionCommand;
import dev.nodekit.csi.CsiCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Spec;

/**
 * {@code nodekit}: the one command of the project. Subcommands are registered from the explicit
 * list below, never by classpath scanning (start-up time matters). Each plugin module contributes
 * its own command class; this module is the only one that sees them all.
 */
@Command(name = "nodekit", mixinStandardHelpOptions = true, versionProvider = NodekitMain.Version.class,
        description = "Node-level plugins for Kubernetes (CSI, CNI, CRI) and their conformance harness.",
        subcommands = {
                VersionCommand.class,
                ConformanceCommand.class,
                BenchCommand.class,
                CsiCommand.class,
        })
public final class NodekitMain implements Runnable {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Runs the command line and returns the exit code (tests call this; {@link #main} exits with it). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new NodekitMain());
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            line.getErr().println("nodekit " + String.join(" ", parsed.originalArgs()) + ": " + ex.getMessage());
            return 1;
        });
        return cl.execute(args);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** {@code nodekit --version}. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"nodekit " + BuildInfo.current().versionWithCommit()};
        }
    }
}
