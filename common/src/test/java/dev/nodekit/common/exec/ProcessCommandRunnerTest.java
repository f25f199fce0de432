package dev.nodekit.common.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class ProcessCommandRunnerTest {
    private final ProcessCommandRunner runner = new ProcessCommandRunner();

    @Test
    void capturesStdoutStderrAndExitCodeSeparately() throws Exception {
        CommandResult r = runner.run(Command.of("sh", "-c", "echo out; echo err >&2; exit 3"));
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.stdout()).isEqualTo("out\n");
        assertThat(r.stderr()).isEqualTo("err\n");
        assertThat(r.argv()).containsExactly("sh", "-c", "echo out; echo err >&2; exit 3");
        assertThat(r.outputTruncated()).isFalse();
        assertThat(r.duration()).isPositive();
        assertThatThrownBy(r::checkSuccess).isInstanceOfSatisfying(CommandException.class,
                e -> assertThat(e.stderrTail()).isEqualTo("err"));
    }

    @Test
    void argumentsAreNeverInterpretedByAShell() throws Exception {
        CommandResult r = runner.run(Command.of("printf", "%s|", "a b", "$HOME", "; rm -rf /", "*"));
        assertThat(r.stdout()).isEqualTo("a b|$HOME|; rm -rf /|*|");
    }

    @Test
    void feedsStdinAndClosesIt() throws Exception {
        assertThat(runner.run(Command.of("cat").withStdin("hello\nworld")).stdout()).isEqualTo("hello\nworld");
        // Without stdin the command sees end of file at once instead of hanging.
        assertThat(runner.run(Command.of("cat").withTimeout(Duration.ofSeconds(5))).stdout()).isEmpty();
    }

    @Test
    void addsEnvironmentAndSetsWorkingDirectory(@TempDir Path dir) throws Exception {
        CommandResult r = runner.run(Command.of("sh", "-c", "echo \"$NODEKIT_X\"; echo \"${PATH:+has-path}\"; pwd")
                .withEnv("NODEKIT_X", "value with spaces").withWorkingDirectory(dir));
        assertThat(r.stdoutLines()).containsExactly("value with spaces", "has-path", dir.toRealPath().toString());
    }

    @Test
    void largeOutputOnBothStreamsDoesNotDeadlockAndIsCapped() throws Exception {
        // 8 MiB on each stream, far beyond a 64 KiB pipe buffer, with a 1 MiB cap.
        Command c = Command.of("sh", "-c", "head -c 8388608 /dev/zero | tr '\\0' o; head -c 8388608 /dev/zero | tr '\\0' e >&2")
                .withMaxOutputBytes(1024 * 1024).withTimeout(Duration.ofSeconds(30));
        CommandResult r = runner.run(c);
        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).hasSize(1024 * 1024).matches("o+");
        assertThat(r.stderr()).hasSize(1024 * 1024).matches("e+");
        assertThat(r.outputTruncated()).isTrue();
    }

    @Test
    void largeStdinWhileTheCommandWritesLargeOutput() throws Exception {
        byte[] in = new byte[4 * 1024 * 1024];
        Arrays.fill(in, (byte) 'x');
        CommandResult r = runner.run(Command.of("cat").withStdin(in).withTimeout(Duration.ofSeconds(30)));
        assertThat(r.stdout()).hasSize(in.length);
        assertThat(r.outputTruncated()).isFalse();
    }

    @Test
    void timeoutKillsTheProcessAndItsDescendants() throws Exception {
        Command c = Command.of("sh", "-c", "sleep 300 & echo $!; sleep 300 & echo $!; echo started >&2; wait")
                .withTimeout(Duration.ofMillis(500));
        long start = System.nanoTime();
        CommandTimeoutException e = org.junit.jupiter.api.Assertions.assertThrows(CommandTimeoutException.class,
                () -> runner.run(c));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(took).isLessThan(Duration.ofSeconds(10));
        assertThat(e.timeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(e.exitCode()).isEmpty();
        assertThat(e.partialStderr()).contains("started");
        assertThat(e.getMessage()).contains("timed out after 500ms", "started");
        List<Long> children = e.partialStdout().lines().map(Long::parseLong).toList();
        assertThat(children).hasSize(2);
        for (long pid : children) {
            await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));
        }
    }

    @Test
    void timeoutIsACommandException() {
        assertThatThrownBy(() -> runner.run(List.of("sleep", "30"), Duration.ofMillis(100)))
                .isInstanceOf(CommandException.class).isInstanceOf(CommandTimeoutException.class);
    }

    @Test
    void backgroundChildHoldingThePipesDoesNotBlockTheResult() throws Exception {
        ProcessCommandRunner quick = new ProcessCommandRunner(Executables::which, Duration.ofMillis(200));
        long start = System.nanoTime();
        CommandResult r = quick.run(Command.of("sh", "-c", "sleep 30 & echo $!"));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        long pid = Long.parseLong(r.stdout().strip());
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        assertThat(r.exitCode()).isZero();
        assertThat(took).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void missingExecutableIsACommandExceptionNamingIt() {
        assertThatThrownBy(() -> runner.run(Command.of("nodekit-no-such-tool", "x")))
                .isInstanceOfSatisfying(CommandException.class, e -> {
                    assertThat(e.exitCode()).isEmpty();
                    assertThat(e.argv()).containsExactly("nodekit-no-such-tool", "x");
                    assertThat(e.getMessage()).contains("'nodekit-no-such-tool' not found", "/usr/sbin");
                });
        assertThatThrownBy(() -> runner.run(Command.of("/nonexistent/bin/tool")))
                .isInstanceOf(CommandException.class).hasMessageContaining("'/nonexistent/bin/tool' not found");
    }

    @Test
    void bareNamesAreResolvedButTheResultKeepsTheCallersArgv(@TempDir Path dir) throws Exception {
        Path script = dir.resolve("hello");
        Files.writeString(script, "#!/bin/sh\necho \"$0\"\n");
        script.toFile().setExecutable(true);
        List<String> asked = new ArrayList<>();
        ProcessCommandRunner r = new ProcessCommandRunner(name -> {
            asked.add(name);
            return name.equals("hello") ? Optional.of(script) : Optional.empty();
        }, ProcessCommandRunner.DEFAULT_PIPE_GRACE);
        CommandResult res = r.run(Command.of("hello"));
        assertThat(asked).containsExactly("hello");
        assertThat(res.stdout().strip()).isEqualTo(script.toString());
        assertThat(res.argv()).containsExactly("hello");
    }

    @Test
    void interruptKillsTheCommandAndKeepsTheInterruptFlag() throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicReference<Boolean> flag = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                runner.run(Command.of("sleep", "30"));
            } catch (CommandException e) {
                thrown.set(e);
                flag.set(Thread.currentThread().isInterrupted());
            }
        });
        t.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.current().descendants()
                .anyMatch(h -> h.info().command().orElse("").endsWith("sleep")));
        t.interrupt();
        t.join(10_000);
        assertThat(thrown.get()).isInstanceOf(CommandException.class).isNotInstanceOf(CommandTimeoutException.class)
                .hasMessageContaining("interrupted");
        assertThat(flag.get()).isTrue();
        assertThat(ProcessHandle.current().descendants()
                .filter(h -> h.info().command().orElse("").endsWith("sleep"))
                .filter(ProcessHandle::isAlive).toList()).isEmpty();
    }

    @Test
    void killedBySignalReportsShellStyleExitCode() throws Exception {
        CommandResult r = runner.run(Command.of("sh", "-c", "kill -9 $$"));
        assertThat(r.exitCode()).isEqualTo(137);
    }
}
