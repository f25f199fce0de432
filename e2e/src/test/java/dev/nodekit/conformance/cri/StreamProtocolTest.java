package dev.nodekit.conformance.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.nodekit.conformance.cri.StreamProtocol.Frame;
import dev.nodekit.conformance.cri.StreamProtocol.ProtocolException;

/** The v4 channel protocol folded from crafted frames, as containerd 1.6's stream server sends them. */
class StreamProtocolTest {
    private static Frame f(int channel, String text) {
        return new Frame(channel, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Verbatim from containerd 1.6.20 for {@code sh -c "echo hi; echo e >&2; exit 5"}. */
    static final String CONTAINERD_EXIT_5 = "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated "
            + "with non-zero exit code: error executing command [sh -c echo hi; echo e \\u003e\\u00262; exit 5], exit "
            + "code 5\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"5\"}]}}";

    @Test
    void foldsAnExecStreamLikeContainerdSendsIt() throws Exception {
        var r = StreamProtocol.exec(List.of(f(1, ""), f(1, "hi\n"), f(2, "e\n"), f(3, CONTAINERD_EXIT_5)));
        assertThat(r.stdout()).isEqualTo("hi\n");
        assertThat(r.stderr()).isEqualTo("e\n");
        assertThat(r.exitCode()).isEqualTo(5);
    }

    @Test
    void successIsExitZero() throws Exception {
        assertThat(StreamProtocol.exitCode("{\"metadata\":{},\"status\":\"Success\"}")).isZero();
    }

    @Test
    void statusSplitOverSeveralMessagesIsJoined() throws Exception {
        String s = CONTAINERD_EXIT_5;
        var r = StreamProtocol.exec(List.of(f(3, s.substring(0, 40)), f(3, s.substring(40))));
        assertThat(r.exitCode()).isEqualTo(5);
    }

    @Test
    void aStreamWithoutStatusHasNoExitCode() {
        assertThatThrownBy(() -> StreamProtocol.exec(List.of(f(1, "hi\n"))))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("without a status on channel 3");
    }

    @Test
    void failuresOtherThanAnExitCodeAreStreamErrors() {
        assertThatThrownBy(() -> StreamProtocol.exitCode("{\"status\":\"Failure\",\"reason\":\"InternalError\","
                + "\"message\":\"exec failed: no such file\"}")).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("exec failed: no such file");
        assertThatThrownBy(() -> StreamProtocol.exitCode("{\"status\":\"Failure\",\"reason\":\"NonZeroExitCode\"}"))
                .hasMessageContaining("without an ExitCode cause");
        assertThatThrownBy(() -> StreamProtocol.exitCode("{\"status\":\"Failure\",\"reason\":\"NonZeroExitCode\","
                + "\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"five\"}]}}"))
                .hasMessageContaining("not a number");
        assertThatThrownBy(() -> StreamProtocol.exitCode("exit 5")).hasMessageContaining("does not carry JSON");
        assertThatThrownBy(() -> StreamProtocol.exitCode("{\"status\":\"Done\"}")).hasMessageContaining("neither");
    }

    @Test
    void inputChannelsNeverFlowToTheClient() {
        assertThatThrownBy(() -> StreamProtocol.exec(List.of(f(0, "x"), f(3, "{\"status\":\"Success\"}"))))
                .hasMessageContaining("channel 0");
    }

    @Test
    void framesCarryTheirChannelInTheFirstByte() throws Exception {
        Frame x = Frame.decode(new byte[] {2, 'o', 'k'});
        assertThat(x.channel()).isEqualTo(2);
        assertThat(x.text()).isEqualTo("ok");
        assertThat(x.encode()).containsExactly(2, 'o', 'k');
        assertThat(Frame.decode(new byte[] {(byte) 200}).channel()).isEqualTo(200);
        assertThatThrownBy(() -> Frame.decode(new byte[0])).hasMessageContaining("empty binary message");
    }

    @Test
    void portForwardChannelsStartWithTheLittleEndianPort() throws Exception {
        byte[] data = {(byte) 0x90, 0x1f, 'H', 'T'};
        assertThat(new String(StreamProtocol.stripPort(data, 8080, "data"), StandardCharsets.US_ASCII)).isEqualTo("HT");
        assertThat(StreamProtocol.stripPort(new byte[] {(byte) 0x90, 0x1f}, 8080, "error")).isEmpty();
        assertThatThrownBy(() -> StreamProtocol.stripPort(new byte[] {0x1f, (byte) 0x90}, 8080, "data"))
                .hasMessageContaining("announced port 36895, expected 8080");
        assertThatThrownBy(() -> StreamProtocol.stripPort(new byte[] {1}, 8080, "error"))
                .hasMessageContaining("did not start with the 2-byte port");
    }

    @Test
    void streamingUrlsMustBeFullyQualified() throws Exception {
        assertThat(StreamProtocol.webSocketUri("http://127.0.0.1:39149/exec/tihcc5PZ", "Exec"))
                .hasToString("ws://127.0.0.1:39149/exec/tihcc5PZ");
        assertThat(StreamProtocol.webSocketUri("https://[::1]:10010/attach/a-_b", "Attach"))
                .hasToString("wss://[::1]:10010/attach/a-_b");
        assertThatThrownBy(() -> StreamProtocol.webSocketUri("/cri/exec/abc", "Exec"))
                .hasMessageContaining("fully qualified");
        assertThatThrownBy(() -> StreamProtocol.webSocketUri("unix:///run/x.sock", "Exec"))
                .hasMessageContaining("fully qualified");
    }

    @Test
    void sessionSummaryAndRedactionForMessages() {
        assertThat(StreamSession.summary(List.of())).isEqualTo("nothing");
        assertThat(StreamSession.summary(List.of(f(1, "a\n"), f(3, "{}")))).isEqualTo("ch1: 2 B \"a\\n\" | ch3: 2 B \"{}\"");
        assertThat(StreamSession.redact(java.net.URI.create("ws://127.0.0.1:1/exec/SECRET"))).isEqualTo(
                "ws://127.0.0.1:1/exec/<token>");
    }
}
