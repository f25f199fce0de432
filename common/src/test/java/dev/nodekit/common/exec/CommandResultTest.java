package dev.nodekit.common.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

class CommandResultTest {
    private static final List<String> ARGV = List.of("umount", "/mnt/x");

    @Test
    void checkSuccessPassesOnZeroAndReturnsTheResult() throws Exception {
        CommandResult r = new CommandResult(ARGV, 0, "ok\n", "", Duration.ofMillis(3));
        assertThat(r.checkSuccess()).isSameAs(r);
        assertThat(r.succeeded()).isTrue();
        assertThat(r.stdoutLines()).containsExactly("ok");
    }

    @Test
    void checkSuccessThrowsWithArgvExitCodeAndStderrTail() {
        CommandResult r = new CommandResult(ARGV, 32, "", "umount: /mnt/x: not mounted.\n", Duration.ofMillis(3));
        assertThatThrownBy(r::checkSuccess).isInstanceOfSatisfying(CommandException.class, e -> {
            assertThat(e.argv()).isEqualTo(ARGV);
            assertThat(e.exitCode()).hasValue(32);
            assertThat(e.stderrTail()).isEqualTo("umount: /mnt/x: not mounted.");
            assertThat(e).hasMessage("command 'umount /mnt/x' exited with code 32: umount: /mnt/x: not mounted.");
        });
    }

    @Test
    void checkExitAcceptsListedCodes() throws Exception {
        CommandResult r = new CommandResult(ARGV, 32, "", "", Duration.ZERO);
        assertThat(r.checkExit(0, 32)).isSameAs(r);
        assertThatThrownBy(() -> r.checkExit(0, 1)).hasMessageContaining("accepted: [0, 1]");
    }

    @Test
    void stderrTailKeepsTheLastLinesAndIsBounded() {
        String many = IntStream.range(0, 100).mapToObj(i -> "line " + i).collect(Collectors.joining("\n"));
        CommandResult r = new CommandResult(ARGV, 1, "", many, Duration.ZERO);
        List<String> tail = r.stderrTail().lines().toList();
        assertThat(tail).hasSize(CommandResult.TAIL_LINES).endsWith("line 99").startsWith("line 80");

        String huge = "x".repeat(10_000);
        assertThat(new CommandResult(ARGV, 1, "", huge, Duration.ZERO).stderrTail())
                .hasSize(CommandResult.TAIL_CHARS + 3).startsWith("...");
    }

    @Test
    void toStringLeavesOutputOut() {
        CommandResult r = new CommandResult(ARGV, 0, "secret-output", "", Duration.ofMillis(5), true);
        assertThat(r.toString()).contains("umount /mnt/x", "exit=0", "truncated").doesNotContain("secret-output");
    }
}
