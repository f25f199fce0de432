package dev.nodekit.cli;

import java.util.Arrays;
import java.util.Map;
import java.util.function.Supplier;

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
                dev.nodekit.cni.install.CniCli.class,
                dev.nodekit.crishim.CriShimCommand.class,
                dev.nodekit.demo.DemoCommand.class,
        })
public final class NodekitMain implements Runnable {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /**
     * Daemons that must start fast (a killed CRI shim has to serve again within a second): for these
     * only their own command is built, not every subcommand of {@code nodekit}, which costs picocli
     * 0.15-0.6 s of reflection on a loaded node.
     */
    private static final Map<String, Supplier<Object>> DIRECT = Map.of(
            "csi", CsiCommand::new,
            "cri-shim", dev.nodekit.crishim.CriShimCommand::new,
            "cni", dev.nodekit.cni.install.CniCli::new);

    /** Runs the command line and returns the exit code (tests call this; {@link #main} exits with it). */
    public static int run(String... args) {
        if (args.length > 0 && args[0].equals("demo")) {
            dev.nodekit.demo.DemoCommand.quietLogsFor(args);
        }
        if (args.length > 0 && args[0].equals("cri-shim")) {
            var simple = dev.nodekit.crishim.CriShimCommand.parseSimple(Arrays.copyOfRange(args, 1, args.length));
            if (simple.isPresent()) {
                return callWithoutPicocli(simple.get(), args);
            }
        }
        if (args.length > 0 && DIRECT.containsKey(args[0])) {
            CommandLine direct = new CommandLine(DIRECT.get(args[0]).get());
            direct.setCommandName("nodekit " + args[0]);
            return execute(direct, Arrays.copyOfRange(args, 1, args.length));
        }
        return execute(new CommandLine(new NodekitMain()), args);
    }

    /** A command parsed without picocli (see CriShimCommand.parseSimple), failing as {@link #execute} would. */
    private static int callWithoutPicocli(java.util.concurrent.Callable<Integer> command, String[] args) {
        try {
            return command.call();
        } catch (Exception e) {
            System.err.println("nodekit " + String.join(" ", args) + ": " + e.getMessage());
            return 1;
        }
    }

    private static int execute(CommandLine cl, String[] args) {
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
