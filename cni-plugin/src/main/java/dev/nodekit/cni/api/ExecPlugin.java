package dev.nodekit.cni.api;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.exec.CommandTimeoutException;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.Result;

/**
 * A delegate plugin run as an executable, the way Go's {@code invoke} package does it: the binary
 * {@code type} is looked up in {@code CNI_PATH}, exec'd with the caller's environment and
 * {@code CNI_COMMAND} set to the operation, the caller's whole configuration (its raw stdin bytes) on
 * stdin; its stderr is passed through to ours, its stdout is the result or the error object, which
 * is rethrown with the delegate's code. A delegate that exceeds the timeout is killed and reported as
 * {@link CniError#TRY_AGAIN_LATER}.
 */
public final class ExecPlugin implements CniPlugin {
    /** How long a delegate may run by default. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private final String type;
    private final CommandRunner runner;
    private final OutputStream stderr;
    private final Duration timeout;

    /**
     * A delegate called {@code type}.
     *
     * @param stderr where the delegate's stderr is copied to (the calling plugin's stderr)
     */
    public ExecPlugin(String type, CommandRunner runner, OutputStream stderr, Duration timeout) {
        if (type == null || type.isEmpty() || type.indexOf('/') >= 0) {
            throw new IllegalArgumentException("plugin type '" + type + "' must be a file name");
        }
        if (runner == null || stderr == null || timeout == null) {
            throw new IllegalArgumentException("runner, stderr and timeout are required");
        }
        this.type = type;
        this.runner = runner;
        this.stderr = stderr;
        this.timeout = timeout;
    }

    /** The plugin binary name. */
    public String type() {
        return type;
    }

    @Override
    public Result add(CniRequest request) throws CniException {
        String out = exec(request, CniCommand.ADD);
        try {
            return Result.parse(out, request.version());
        } catch (CniException e) {
            throw new CniException(CniError.DECODING_FAILURE, "cannot read the result of delegate " + type + ": "
                    + e.getMessage(), out.strip());
        }
    }

    @Override
    public void del(CniRequest request) throws CniException {
        exec(request, CniCommand.DEL);
    }

    @Override
    public void check(CniRequest request) throws CniException {
        exec(request, CniCommand.CHECK);
    }

    @Override
    public void status(CniRequest request) throws CniException {
        exec(request, CniCommand.STATUS);
    }

    @Override
    public void gc(CniRequest request) throws CniException {
        exec(request, CniCommand.GC);
    }

    @Override
    public String about() {
        return "delegate " + type;
    }

    /** The executable for {@code type} in {@code cniPath}: the first regular, executable file. */
    public static Path find(String type, List<Path> cniPath) throws CniException {
        for (Path dir : cniPath) {
            Path p = dir.resolve(type);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        throw new CniException(CniError.INTERNAL, "failed to find plugin \"" + type + "\" in path " + cniPath);
    }

    private String exec(CniRequest request, CniCommand command) throws CniException {
        Path exe = find(type, request.cniPath());
        Map<String, String> env = new HashMap<>(request.env());
        env.put(CniDispatcher.CNI_COMMAND, command.name());
        Command c = Command.of(exe.toString()).withEnv(env).withStdin(request.stdin()).withTimeout(timeout);
        CommandResult r;
        try {
            r = runner.run(c);
        } catch (CommandTimeoutException e) {
            passThrough(e.partialStderr());
            throw new CniException(CniError.TRY_AGAIN_LATER, "delegate " + type + " " + command + " did not finish within "
                    + timeout.toMillis() + " ms; it was killed");
        } catch (CommandException e) {
            throw new CniException(CniError.INTERNAL, "cannot run delegate " + exe + ": " + e.getMessage());
        }
        passThrough(r.stderr());
        if (r.succeeded()) {
            return r.stdout();
        }
        String out = r.stdout().strip();
        if (!out.isEmpty()) {
            CniError error = null;
            try {
                error = CniError.parse(out);
            } catch (CniException notAnErrorObject) {
                // Reported below with the raw output.
            }
            if (error != null) {
                throw error.toException();
            }
            throw new CniException(CniError.INTERNAL, "delegate " + type + " " + command + " failed (exit "
                    + r.exitCode() + ")", out);
        }
        String err = r.stderr().strip();
        throw new CniException(CniError.INTERNAL, err.isEmpty() ? "netplugin failed with no error message"
                : "delegate " + type + " " + command + " failed (exit " + r.exitCode() + ")", err);
    }

    private void passThrough(String text) {
        if (text.isEmpty()) {
            return;
        }
        try {
            stderr.write(text.getBytes(StandardCharsets.UTF_8));
            stderr.flush();
        } catch (IOException e) {
            // The caller's stderr is gone; nothing else to do with a delegate's log.
        }
    }
}
