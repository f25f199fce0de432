package dev.nodekit.common.exec;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * One command to run: an argv (never a shell string), a timeout, optional stdin bytes, environment
 * additions on top of the inherited environment, an optional working directory and a cap on how
 * many bytes of stdout and of stderr are kept.
 *
 * <p>Build with {@link #of(String...)} and the {@code with*} methods, each of which returns a new
 * command. {@link #toString()} shows the argv and the environment <em>keys</em> only, never stdin
 * or environment values: pass secrets there, not in argv (argv is world-readable in /proc).
 *
 * @param argv the program (a bare name is looked up on the search path by {@link ProcessCommandRunner}) and its arguments
 * @param timeout how long the command may run before it and its descendants are killed
 * @param stdin bytes written to the command's stdin, then closed; empty means stdin is closed at once
 * @param environment variables added to (or replacing) the inherited environment
 * @param workingDirectory where the command runs; empty means the JVM's working directory
 * @param maxOutputBytes how many bytes of stdout, and separately of stderr, are kept; the rest is drained and dropped
 */
public record Command(List<String> argv, Duration timeout, byte[] stdin, Map<String, String> environment,
        Optional<Path> workingDirectory, int maxOutputBytes) {

    /** Used by {@link #of}: long enough for mount/mkfs on a slow disk, short enough to notice a hang. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    /** 4 MiB per stream: far above what a well-behaved tool prints, far below what hurts the heap. */
    public static final int DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

    private static final byte[] NO_STDIN = new byte[0];

    /** Validates and copies every part; see the class comment. */
    public Command {
        Objects.requireNonNull(argv, "argv");
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("argv is empty");
        }
        for (String a : argv) {
            if (a == null) {
                throw new IllegalArgumentException("argv contains null: " + argv);
            }
            if (a.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("argv element contains a NUL byte: " + argv);
            }
        }
        if (argv.get(0).isEmpty()) {
            throw new IllegalArgumentException("argv[0] is empty");
        }
        argv = List.copyOf(argv);
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        stdin = stdin == null || stdin.length == 0 ? NO_STDIN : stdin.clone();
        Objects.requireNonNull(environment, "environment");
        for (var e : environment.entrySet()) {
            String k = e.getKey();
            if (k == null || k.isEmpty() || k.indexOf('=') >= 0 || k.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("invalid environment variable name '" + k + "'");
            }
            if (e.getValue() == null || e.getValue().indexOf('\0') >= 0) {
                throw new IllegalArgumentException("environment variable " + k + " has a null or NUL-containing value");
            }
        }
        environment = Map.copyOf(environment);
        Objects.requireNonNull(workingDirectory, "workingDirectory");
        if (maxOutputBytes < 0) {
            throw new IllegalArgumentException("maxOutputBytes must be >= 0, got " + maxOutputBytes);
        }
    }

    /** A command with the defaults: {@link #DEFAULT_TIMEOUT}, no stdin, no env additions, {@link #DEFAULT_MAX_OUTPUT_BYTES}. */
    public static Command of(List<String> argv) {
        return new Command(argv, DEFAULT_TIMEOUT, NO_STDIN, Map.of(), Optional.empty(), DEFAULT_MAX_OUTPUT_BYTES);
    }

    /** Same as {@link #of(List)}. */
    public static Command of(String... argv) {
        return of(Arrays.asList(argv));
    }

    /** This command with another timeout. */
    public Command withTimeout(Duration newTimeout) {
        return new Command(argv, newTimeout, stdin, environment, workingDirectory, maxOutputBytes);
    }

    /** This command with {@code bytes} as stdin. */
    public Command withStdin(byte[] bytes) {
        return new Command(argv, timeout, bytes, environment, workingDirectory, maxOutputBytes);
    }

    /** This command with {@code text} (UTF-8) as stdin. */
    public Command withStdin(String text) {
        return withStdin(text.getBytes(StandardCharsets.UTF_8));
    }

    /** This command with {@code name=value} added to its environment (replacing an earlier addition of {@code name}). */
    public Command withEnv(String name, String value) {
        Map<String, String> env = new HashMap<>(environment);
        env.put(name, value);
        return new Command(argv, timeout, stdin, env, workingDirectory, maxOutputBytes);
    }

    /** This command with all of {@code additions} added to its environment. */
    public Command withEnv(Map<String, String> additions) {
        Map<String, String> env = new HashMap<>(environment);
        env.putAll(additions);
        return new Command(argv, timeout, stdin, env, workingDirectory, maxOutputBytes);
    }

    /** This command running in {@code dir}. */
    public Command withWorkingDirectory(Path dir) {
        return new Command(argv, timeout, stdin, environment, Optional.of(dir), maxOutputBytes);
    }

    /** This command keeping at most {@code bytes} of stdout and of stderr. */
    public Command withMaxOutputBytes(int bytes) {
        return new Command(argv, timeout, stdin, environment, workingDirectory, bytes);
    }

    /** A copy of the stdin bytes (empty when there is no stdin). */
    @Override
    public byte[] stdin() {
        return stdin.clone();
    }

    /** True when the argv starts with {@code prefix}. */
    public boolean startsWith(List<String> prefix) {
        return argv.size() >= prefix.size() && argv.subList(0, prefix.size()).equals(prefix);
    }

    /** The argv as a shell-like line for messages and logs (quoted where needed; not meant to be executed). */
    public String displayArgv() {
        return display(argv);
    }

    static String display(List<String> argv) {
        StringBuilder sb = new StringBuilder();
        for (String a : argv) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            if (!a.isEmpty() && a.chars().allMatch(c -> c > ' ' && c != '\'' && c != '"' && c != '\\' && c < 127)) {
                sb.append(a);
            } else {
                sb.append('\'').append(a.replace("'", "'\\''")).append('\'');
            }
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Command c && argv.equals(c.argv) && timeout.equals(c.timeout)
                && Arrays.equals(stdin, c.stdin) && environment.equals(c.environment)
                && workingDirectory.equals(c.workingDirectory) && maxOutputBytes == c.maxOutputBytes;
    }

    @Override
    public int hashCode() {
        return Objects.hash(argv, timeout, Arrays.hashCode(stdin), environment, workingDirectory, maxOutputBytes);
    }

    /** The argv, timeout, stdin size and environment keys; never stdin contents or environment values. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Command[").append(display(argv)).append(", timeout=").append(timeout);
        if (stdin.length > 0) {
            sb.append(", stdin=").append(stdin.length).append(" bytes");
        }
        if (!environment.isEmpty()) {
            sb.append(", env=").append(new TreeSet<>(environment.keySet()));
        }
        workingDirectory.ifPresent(d -> sb.append(", dir=").append(d));
        return sb.append(']').toString();
    }
}
