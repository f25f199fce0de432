package dev.nodekit.cli;

import picocli.CommandLine.Command;

/**
 * {@code nodekit conformance csi|cni|cri}: run a conformance suite against any plugin. One class
 * per target type; add new ones to the list below.
 */
@Command(name = "conformance", description = "Check a plugin (ours or anyone's) against the spec.",
        mixinStandardHelpOptions = true, subcommands = {
                ConformanceCsi.class,
                ConformanceCni.class,
                ConformanceCri.class,
        })
public final class ConformanceCommand {
}
