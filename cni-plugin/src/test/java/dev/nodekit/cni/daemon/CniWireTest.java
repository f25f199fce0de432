package dev.nodekit.cni.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The frames byte for byte, both directions, and every refusal a malformed or newer frame gets. */
class CniWireTest {

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static CniWire.Request request() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CNI_COMMAND", "ADD");
        env.put("CNI_CONTAINERID", "abc");
        return CniWire.Request.of("nodekit-bridge", env, bytes("{\"cniVersion\":\"1.0.0\"}"));
    }

    @Test
    void requestRoundTripsWithTheLayoutTheCClientWrites() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CniWire.writeRequest(out, request());
        byte[] b = out.toByteArray();
        // "NKCR" 1, name_len, name, env_len, env, stdin_len, stdin
        assertThat(new String(b, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("NKCR");
        assertThat(b[4]).isEqualTo((byte) 1);
        assertThat(b[5]).isEqualTo((byte) "nodekit-bridge".length());
        String env = "CNI_COMMAND=ADD\0CNI_CONTAINERID=abc\0";
        int envAt = 6 + "nodekit-bridge".length();
        assertThat(Arrays.copyOfRange(b, envAt, envAt + 4)).containsExactly(0, 0, 0, env.length());
        assertThat(new String(b, envAt + 4, env.length(), StandardCharsets.UTF_8)).isEqualTo(env);
        assertThat(CniWire.readRequest(new ByteArrayInputStream(b))).isEqualTo(request());
    }

    @Test
    void answerAndReplyRoundTrip() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CniWire.writeReady(out, 1);
        CniWire.Answer a = new CniWire.Answer(1, bytes("{\"code\":7}\n"), bytes("warning\n"));
        CniWire.writeDone(out, 1, a);
        ByteArrayInputStream in = new ByteArrayInputStream(out.toByteArray());
        assertThat(CniWire.readReply(in).ready()).isTrue();
        assertThat(CniWire.readAnswer(in, 1)).isEqualTo(a);
        assertThat(in.read()).isEqualTo(-1);
    }

    @Test
    void refusalCarriesCodeAndMessage() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CniWire.writeRefusal(out, CniWire.REFUSED_BUSY, "full");
        CniWire.Reply r = CniWire.readReply(new ByteArrayInputStream(out.toByteArray()));
        assertThat(r.ready()).isFalse();
        assertThat(r.refusal()).isEqualTo(CniWire.REFUSED_BUSY);
        assertThat(r.message()).isEqualTo("full");
    }

    @Test
    void aNewerRequestVersionIsRefusedWithAClearMessage() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CniWire.writeRequest(out, new CniWire.Request(2, "nodekit-bridge", Map.of("CNI_COMMAND", "ADD"), new byte[0]));
        assertThatThrownBy(() -> CniWire.readRequest(new ByteArrayInputStream(out.toByteArray())))
                .isInstanceOfSatisfying(WireException.class, e -> {
                    assertThat(e.refusal()).isEqualTo(CniWire.REFUSED_VERSION);
                    assertThat(e.getMessage()).contains("protocol version 2").contains("upgrade the nodekit CNI daemon");
                });
    }

    @Test
    void aNewerReplyVersionIsRefusedByTheClientSide() {
        byte[] reply = {'N', 'K', 'C', 'A', 9};
        assertThatThrownBy(() -> CniWire.readReply(new ByteArrayInputStream(reply)))
                .isInstanceOfSatisfying(WireException.class, e -> assertThat(e.getMessage()).contains("version 9"));
    }

    @Test
    void malformedRequestsAreRefused() throws Exception {
        assertRefused(bytes("HTTP/1.1 GET /"), "bad magic");
        // An environment entry without '='.
        assertRefused(frame("nodekit-bridge", "CNI_COMMAND\0", ""), "without '='");
        // Not NUL-terminated.
        assertRefused(frame("nodekit-bridge", "CNI_COMMAND=ADD", ""), "does not end with NUL");
        // A variable that is not CNI_*.
        assertRefused(frame("nodekit-bridge", "LD_PRELOAD=/x.so\0", ""), "not a CNI_ variable");
        // A path as the plugin name.
        assertRefused(frame("../../bin/sh", "CNI_COMMAND=ADD\0", ""), "must be a file name");
        // A length beyond the limit is refused before anything is allocated.
        byte[] huge = frame("nodekit-bridge", "", "");
        int at = 6 + "nodekit-bridge".length() + 4;
        huge[at] = (byte) 0x7f;
        assertRefused(huge, "exceeds the limit");
    }

    @Test
    void aTruncatedRequestIsEndOfStream() throws Exception {
        byte[] f = frame("nodekit-bridge", "CNI_COMMAND=ADD\0", "{}");
        assertThatThrownBy(() -> CniWire.readRequest(new ByteArrayInputStream(Arrays.copyOf(f, f.length - 1))))
                .isInstanceOf(EOFException.class);
    }

    @Test
    void commitIsOneByteAndEndOfStreamMeansWithdrawn() throws Exception {
        assertThat(CniWire.readCommit(new ByteArrayInputStream(new byte[] {'G'}))).isTrue();
        assertThat(CniWire.readCommit(new ByteArrayInputStream(new byte[0]))).isFalse();
        assertThatThrownBy(() -> CniWire.readCommit(new ByteArrayInputStream(new byte[] {'X'})))
                .isInstanceOf(WireException.class);
    }

    @Test
    void stderrIsTruncatedAndExitCodesChecked() {
        CniWire.Answer a = new CniWire.Answer(0, new byte[0], new byte[CniWire.MAX_STDERR + 10]);
        assertThat(a.stderr()).hasSize(CniWire.MAX_STDERR);
        assertThatThrownBy(() -> new CniWire.Answer(256, new byte[0], new byte[0])).isInstanceOf(IllegalArgumentException.class);
    }

    private static void assertRefused(byte[] frame, String message) {
        assertThatThrownBy(() -> CniWire.readRequest(new ByteArrayInputStream(frame)))
                .isInstanceOfSatisfying(WireException.class, e -> {
                    assertThat(e.refusal()).isEqualTo(CniWire.REFUSED_MALFORMED);
                    assertThat(e.getMessage()).contains(message);
                });
    }

    /** A hand-built version-1 frame. */
    static byte[] frame(String name, String env, String stdin) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(bytes("NKCR"));
        b.write(1);
        b.write(name.length());
        b.writeBytes(bytes(name));
        u32(b, bytes(env).length);
        b.writeBytes(bytes(env));
        u32(b, bytes(stdin).length);
        b.writeBytes(bytes(stdin));
        return b.toByteArray();
    }

    static void u32(ByteArrayOutputStream b, int v) {
        b.write(v >>> 24);
        b.write(v >>> 16);
        b.write(v >>> 8);
        b.write(v);
    }
}
