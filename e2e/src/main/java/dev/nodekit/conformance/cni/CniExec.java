package dev.nodekit.conformance.cni;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Execs CNI plugins the way a runtime does: {@code <binDir>/<type>} with only {@code PATH} and the
 * {@code CNI_*} variables in its environment, the request on stdin, a bound on how long it may
 * run (the process tree is killed past it), stdout, stderr and the exit code captured.
 */
public final class CniExec {
    /** The {@code PATH} plugins get (a runtime's usual one; plugins find {@code ip}, {@code iptables} on it). */
    public static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    /** Plugin names are binary names in the bin dir: never a path. */
    public static final Pattern PLUGIN_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.+-]*");

    private static final Logger LOG = LoggerFactory.getLogger(CniExec.class);

    private final Path binDir;
    private final Duration timeout;
    private final ProcessRunner runner;

    /** Execs plugins from {@code binDir}, each call bounded by {@code timeout}. */
    public CniExec(Path binDir, Duration timeout) {
        this(binDir, timeout, ProcessRunner.LOCAL);
    }

    CniExec(Path binDir, Duration timeout, ProcessRunner runner) {
        this.binDir = Objects.requireNonNull(binDir, "binDir");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive");
        }
        this.runner = Objects.requireNonNull(runner, "runner");
    }

    public Path binDir() {
        return binDir;
    }

    public Duration timeout() {
        return timeout;
    }

    /** The executable of {@code plugin} in the bin dir; the name is checked before any path is built. */
    public Path executable(String plugin) {
        if (plugin == null || !PLUGIN_NAME.matcher(plugin).matches()) {
            throw new IllegalArgumentException("plugin name '" + plugin + "' must be a file name ("
                    + PLUGIN_NAME.pattern() + ")");
        }
        return binDir.resolve(plugin);
    }

    /**
     * Runs {@code plugin} with {@code env} and {@code stdin}. A plugin that cannot be started (missing,
     * not executable) is an {@link IOException}; anything it does once started is in the result.
     */
    public ExecResult invoke(String plugin, CniEnv env, String stdin) throws IOException, InterruptedException {
        Path exe = executable(plugin);
        if (!Files.isExecutable(exe)) {
            throw new IOException("plugin " + exe + " does not exist or is not executable");
        }
        Map<String, String> full = new HashMap<>(env.vars());
        full.put("PATH", PATH);
        ExecResult r = runner.run(List.of(exe.toString()), full, stdin.getBytes(StandardCharsets.UTF_8), timeout);
        LOG.atDebug().addKeyValue("plugin", plugin).addKeyValue("command", env.get(CniEnv.COMMAND))
                .addKeyValue("container_id", env.get(CniEnv.CONTAINERID)).addKeyValue("exit", r.exitCode())
                .addKeyValue("duration_ms", r.duration().toMillis()).log("plugin call");
        return r;
    }
}
