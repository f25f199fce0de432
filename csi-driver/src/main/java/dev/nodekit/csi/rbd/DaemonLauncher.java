package dev.nodekit.csi.rbd;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Starts a daemon that must outlive this process: in its own session ({@code setsid}), stdin from
 * {@code /dev/null}, stdout and stderr appended to a log file (never pipes to us: a pipe would break
 * with a SIGPIPE when we die). The real one execs {@code setsid PROGRAM...}; setsid replaces itself
 * with the program, so the returned pid is the daemon's. Tests inject a fake.
 */
interface DaemonLauncher {
    /** Starts {@code argv} with {@code env} added to ours; returns its pid. */
    long start(List<String> argv, Map<String, String> env, Path log) throws IOException;

    /** The real launcher. */
    static DaemonLauncher setsid() {
        return (argv, env, log) -> {
            List<String> cmd = new ArrayList<>();
            cmd.add("setsid");
            cmd.addAll(argv);
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).redirectErrorStream(true);
            pb.environment().putAll(env);
            return pb.start().pid();
        };
    }
}
