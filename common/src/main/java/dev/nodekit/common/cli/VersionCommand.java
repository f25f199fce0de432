package dev.nodekit.common.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code nodekit version}: the build, the JVM and the OS, one per line (or JSON). */
@Command(name = "version", description = "Print the nodekit version, commit, JVM and OS.")
public final class VersionCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print one JSON object instead of lines.")
    boolean json;

    @Override
    public Integer call() {
        BuildInfo b = BuildInfo.current();
        String jvm = System.getProperty("java.vm.name") + " " + Runtime.version();
        String os = System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch");
        if (json) {
            System.out.printf("{\"version\":\"%s\",\"commit\":\"%s\",\"jvm\":\"%s\",\"os\":\"%s\"}%n",
                    b.version(), b.commit(), jvm, os);
        } else {
            System.out.println("nodekit " + b.versionWithCommit());
            System.out.println("jvm     " + jvm);
            System.out.println("os      " + os);
        }
        return 0;
    }
}
