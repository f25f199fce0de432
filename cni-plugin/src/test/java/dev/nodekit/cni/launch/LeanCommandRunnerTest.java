package dev.nodekit.cni.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandTimeoutException;

class LeanCommandRunnerTest {
    final LeanCommandRunner runner = new LeanCommandRunner();

    @Test
    void capturesBothStreamsAndTheExitCode() throws Exception {
        CommandResult r = runner.run(Command.of("sh", "-c", "echo out; echo err >&2; exit 3"));
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.stdout()).isEqualTo("out\n");
        assertThat(r.stderr()).isEqualTo("err\n");
    }

    @Test
    void feedsStdinSmallAndLarge() throws Exception {
        assertThat(runner.run(Command.of("cat").withStdin("hello")).stdout()).isEqualTo("hello");
        String big = "x".repeat(1 << 20);
        assertThat(runner.run(Command.of("wc", "-c").withStdin(big)).stdout().strip()).isEqualTo(Integer.toString(1 << 20));
    }

    @Test
    void drainsChattyStderrWhileReadingStdout() throws Exception {
        CommandResult r = runner.run(Command.of("sh", "-c", "head -c 300000 /dev/zero >&2; echo done")
                .withMaxOutputBytes(1000));
        assertThat(r.stdout()).isEqualTo("done\n");
        assertThat(r.stderr()).hasSize(1000);
        assertThat(r.outputTruncated()).isTrue();
    }

    @Test
    void killsWhatRunsPastItsTimeout() {
        long start = System.nanoTime();
        assertThatThrownBy(() -> runner.run(Command.of("sh", "-c", "sleep 30 & sleep 30").withTimeout(Duration.ofMillis(300))))
                .isInstanceOf(CommandTimeoutException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void aMissingExecutableIsACommandException() {
        assertThatThrownBy(() -> runner.run(Command.of("no-such-binary-nodekit"))).isInstanceOf(CommandException.class)
                .hasMessageContaining("not found");
    }
}
