package dev.nodekit.common.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class CommandTest {

    @Test
    void defaultsAndWithers() {
        Command c = Command.of("mount", "--bind", "/a", "/b");
        assertThat(c.timeout()).isEqualTo(Command.DEFAULT_TIMEOUT);
        assertThat(c.maxOutputBytes()).isEqualTo(Command.DEFAULT_MAX_OUTPUT_BYTES);
        assertThat(c.stdin()).isEmpty();
        assertThat(c.workingDirectory()).isEmpty();

        Command d = c.withTimeout(Duration.ofSeconds(3)).withStdin("key").withEnv("A", "1").withEnv(Map.of("B", "2"))
                .withWorkingDirectory(Path.of("/tmp")).withMaxOutputBytes(10);
        assertThat(d.timeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(d.stdin()).isEqualTo("key".getBytes());
        assertThat(d.environment()).containsOnly(Map.entry("A", "1"), Map.entry("B", "2"));
        assertThat(d.workingDirectory()).contains(Path.of("/tmp"));
        assertThat(d.maxOutputBytes()).isEqualTo(10);
        assertThat(c.environment()).isEmpty();
    }

    @Test
    void rejectsBadArgvTimeoutAndEnvironment() {
        assertThatThrownBy(() -> Command.of(List.of())).hasMessageContaining("argv is empty");
        assertThatThrownBy(() -> Command.of("")).hasMessageContaining("argv[0] is empty");
        assertThatThrownBy(() -> Command.of("echo", "a\0b")).hasMessageContaining("NUL");
        assertThatThrownBy(() -> Command.of("echo", null)).hasMessageContaining("null");
        assertThatThrownBy(() -> Command.of("echo").withTimeout(Duration.ZERO)).hasMessageContaining("positive");
        assertThatThrownBy(() -> Command.of("echo").withEnv("A=B", "x")).hasMessageContaining("A=B");
        assertThatThrownBy(() -> Command.of("echo").withMaxOutputBytes(-1)).hasMessageContaining(">= 0");
    }

    @Test
    void stdinIsCopiedInAndOut() {
        byte[] secret = {1, 2, 3};
        Command c = Command.of("cat").withStdin(secret);
        secret[0] = 9;
        assertThat(c.stdin()).containsExactly(1, 2, 3);
        c.stdin()[1] = 9;
        assertThat(c.stdin()).containsExactly(1, 2, 3);
        assertThat(c).isEqualTo(Command.of("cat").withStdin(new byte[] {1, 2, 3}));
        assertThat(c.hashCode()).isEqualTo(Command.of("cat").withStdin(new byte[] {1, 2, 3}).hashCode());
    }

    @Test
    void toStringShowsNoSecrets() {
        Command c = Command.of("rbd", "map", "pool/img").withStdin("AQBsecretkey==").withEnv("CEPH_KEY", "hunter2");
        assertThat(c.toString()).contains("rbd map pool/img", "stdin=14 bytes", "CEPH_KEY")
                .doesNotContain("AQBsecret", "hunter2");
    }

    @Test
    void displayQuotesWhatAShellWouldSplit() {
        assertThat(Command.of("echo", "a b", "it's", "", "plain").displayArgv())
                .isEqualTo("echo 'a b' 'it'\\''s' '' plain");
    }

    @Test
    void startsWith() {
        Command c = Command.of("ip", "link", "add");
        assertThat(c.startsWith(List.of("ip", "link"))).isTrue();
        assertThat(c.startsWith(List.of("ip", "addr"))).isFalse();
        assertThat(c.startsWith(List.of("ip", "link", "add", "x"))).isFalse();
    }
}
