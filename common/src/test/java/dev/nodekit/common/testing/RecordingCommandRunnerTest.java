package dev.nodekit.common.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandTimeoutException;

class RecordingCommandRunnerTest {
    private final RecordingCommandRunner runner = new RecordingCommandRunner();

    @Test
    void answersByPrefixAndRecordsInOrder() throws Exception {
        runner.onPrefix("mount").thenSucceed("mounted");
        runner.onPrefix("umount").thenFail(32, "not mounted");

        assertThat(runner.run(Command.of("mount", "--bind", "/a", "/b")).stdout()).isEqualTo("mounted");
        CommandResult r = runner.run(Command.of("umount", "/b"));
        assertThat(r.exitCode()).isEqualTo(32);
        assertThat(r.stderr()).isEqualTo("not mounted");
        assertThat(runner.argvs()).containsExactly(List.of("mount", "--bind", "/a", "/b"), List.of("umount", "/b"));
        assertThat(runner.invocationsStartingWith("umount")).hasSize(1);
    }

    @Test
    void laterRulesOverrideEarlierOnes() throws Exception {
        runner.onPrefix("mount").thenSucceed("generic");
        runner.onPrefix("mount", "-o", "remount,bind,ro").thenFail(1, "specific");
        assertThat(runner.run(Command.of("mount", "--bind", "/a", "/b")).stdout()).isEqualTo("generic");
        assertThat(runner.run(Command.of("mount", "-o", "remount,bind,ro", "/b")).stderr()).isEqualTo("specific");
    }

    @Test
    void responsesAreGivenInTurnAndTheLastRepeats() throws Exception {
        runner.onPrefix("blkid").thenFail(2, "").thenSucceed("ext4");
        assertThat(runner.run(Command.of("blkid")).exitCode()).isEqualTo(2);
        assertThat(runner.run(Command.of("blkid")).stdout()).isEqualTo("ext4");
        assertThat(runner.run(Command.of("blkid")).stdout()).isEqualTo("ext4");
    }

    @Test
    void ruleWithoutResponseSucceedsEmpty() throws Exception {
        runner.onPrefix("true");
        assertThat(runner.run(Command.of("true")).succeeded()).isTrue();
    }

    @Test
    void predicateRulesTimeoutsAndAnswers() throws Exception {
        runner.on(c -> c.argv().contains("-l"), "lazy umount").thenTimeout();
        runner.onPrefix("echo").thenAnswer(c -> new CommandResult(c.argv(), 0,
                String.join(" ", c.argv().subList(1, c.argv().size())), "", java.time.Duration.ZERO));
        assertThatThrownBy(() -> runner.run(Command.of("umount", "-l", "/x")))
                .isInstanceOf(CommandTimeoutException.class);
        assertThat(runner.run(Command.of("echo", "a", "b")).stdout()).isEqualTo("a b");
    }

    @Test
    void unmatchedCommandFailsClearlyAndIsStillRecorded() {
        runner.onPrefix("mount");
        assertThatThrownBy(() -> runner.run(Command.of("rm", "-rf", "/")))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("no scripted response for [rm, -rf, /]")
                .hasMessageContaining("argv starts with [mount]");
        assertThat(runner.argvs()).containsExactly(List.of("rm", "-rf", "/"));
        runner.clearInvocations();
        assertThat(runner.invocations()).isEmpty();
    }
}
