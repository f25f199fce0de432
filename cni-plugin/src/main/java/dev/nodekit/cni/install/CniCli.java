package dev.nodekit.cni.install;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** {@code nodekit cni}: the CNI plugins' commands ({@code install}, {@code daemon}, {@code gc}). */
@Command(name = "cni", mixinStandardHelpOptions = true, description = "nodekit's CNI plugins.",
        subcommands = {CniInstallCommand.class, dev.nodekit.cni.daemon.CniDaemonCommand.class,
            dev.nodekit.cni.gc.CniGcCommand.class})
public final class CniCli implements Runnable {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
