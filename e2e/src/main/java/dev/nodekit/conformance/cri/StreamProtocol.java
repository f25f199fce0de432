package dev.nodekit.conformance.cri;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The Kubernetes streaming protocol as the CRI streaming server speaks it over WebSocket
 * (subprotocol {@value #V4}), as pure functions: every binary message starts with a channel byte.
 * Exec and attach use 0 stdin, 1 stdout, 2 stderr, 3 error/status (a JSON {@code metav1.Status}; v4
 * carries the exit code in it), 4 resize. Port forward uses two channels per requested port, data
 * {@code 2i} and error {@code 2i+1}; the first message on each is the port, uint16 little-endian.
 */
final class StreamProtocol {
    static final String V4 = "v4.channel.k8s.io";
    static final int STDIN = 0;
    static final int STDOUT = 1;
    static final int STDERR = 2;
    static final int STATUS = 3;
    private static final ObjectMapper JSON = new ObjectMapper();

    private StreamProtocol() {
    }

    /** A protocol violation seen on the stream. */
    static final class ProtocolException extends Exception {
        private static final long serialVersionUID = 1L;

        ProtocolException(String message) {
            super(message);
        }
    }

    /** One binary message: the channel byte and the payload. */
    record Frame(int channel, byte[] data) {
        Frame {
            if (channel < 0 || channel > 255) {
                throw new IllegalArgumentException("channel " + channel);
            }
            data = data.clone();
        }

        /** Splits a whole binary WebSocket message; an empty message has no channel and is a violation. */
        static Frame decode(byte[] message) throws ProtocolException {
            if (message.length == 0) {
                throw new ProtocolException("empty binary message: every message must start with a channel byte");
            }
            return new Frame(message[0] & 0xff, Arrays.copyOfRange(message, 1, message.length));
        }

        byte[] encode() {
            byte[] b = new byte[data.length + 1];
            b[0] = (byte) channel;
            System.arraycopy(data, 0, b, 1, data.length);
            return b;
        }

        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** What an exec stream delivered: stdout, stderr and the exit code from the status channel. */
    record ExecResult(String stdout, String stderr, int exitCode) {
    }

    /**
     * Folds the frames of a finished exec stream. A v4 stream must end with a status on channel 3;
     * without it the exit code is unknown, which is a violation.
     */
    static ExecResult exec(List<Frame> frames) throws ProtocolException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ByteArrayOutputStream status = new ByteArrayOutputStream();
        for (Frame f : frames) {
            switch (f.channel()) {
                case STDOUT -> out.writeBytes(f.data());
                case STDERR -> err.writeBytes(f.data());
                case STATUS -> status.writeBytes(f.data());
                default -> throw new ProtocolException("message on channel " + f.channel()
                        + " of an exec stream (only 1 stdout, 2 stderr, 3 status flow to the client)");
            }
        }
        if (status.size() == 0) {
            throw new ProtocolException("the stream closed without a status on channel 3, so the exit code is unknown");
        }
        return new ExecResult(out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8),
                exitCode(status.toString(StandardCharsets.UTF_8)));
    }

    /**
     * The exit code in a v4 status: {@code Success} is 0; {@code Failure} with reason
     * {@code NonZeroExitCode} carries it in {@code details.causes[reason=ExitCode].message}; any other
     * failure is an error of the stream itself.
     */
    static int exitCode(String statusJson) throws ProtocolException {
        JsonNode s;
        try {
            s = JSON.readTree(statusJson);
        } catch (Exception e) {
            throw new ProtocolException("status channel does not carry JSON: " + abbreviate(statusJson));
        }
        if (s == null || !s.isObject()) {
            throw new ProtocolException("status channel does not carry a JSON object: " + abbreviate(statusJson));
        }
        String st = s.path("status").asText("");
        if (st.equals("Success")) {
            return 0;
        }
        if (!st.equals("Failure")) {
            throw new ProtocolException("status is neither Success nor Failure: " + abbreviate(statusJson));
        }
        if (!s.path("reason").asText("").equals("NonZeroExitCode")) {
            throw new ProtocolException("the stream failed: " + s.path("message").asText(abbreviate(statusJson)));
        }
        for (JsonNode cause : s.path("details").path("causes")) {
            if (cause.path("reason").asText("").equals("ExitCode")) {
                try {
                    return Integer.parseInt(cause.path("message").asText(""));
                } catch (NumberFormatException e) {
                    throw new ProtocolException("ExitCode cause is not a number: " + abbreviate(statusJson));
                }
            }
        }
        throw new ProtocolException("NonZeroExitCode status without an ExitCode cause: " + abbreviate(statusJson));
    }

    /** All bytes on {@code channel}. */
    static byte[] channel(List<Frame> frames, int channel) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        frames.stream().filter(f -> f.channel() == channel).forEach(f -> b.writeBytes(f.data()));
        return b.toByteArray();
    }

    /**
     * Splits the bytes of one port-forward channel into the port prefix and the rest. The server
     * must open every channel with the port it forwards, uint16 little-endian.
     */
    static byte[] stripPort(byte[] channelBytes, int expectedPort, String what) throws ProtocolException {
        if (channelBytes.length < 2) {
            throw new ProtocolException(what + " channel did not start with the 2-byte port number");
        }
        int port = (channelBytes[0] & 0xff) | (channelBytes[1] & 0xff) << 8;
        if (port != expectedPort) {
            throw new ProtocolException(what + " channel announced port " + port + ", expected " + expectedPort);
        }
        return Arrays.copyOfRange(channelBytes, 2, channelBytes.length);
    }

    /**
     * The WebSocket URI for a streaming URL returned by Exec/Attach/PortForward. CRI requires a fully
     * qualified URL; a relative one (old dockershim style) is a violation.
     */
    static URI webSocketUri(String url, String rpc) throws ProtocolException {
        Objects.requireNonNull(url, "url");
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw new ProtocolException(rpc + " returned an unparseable URL '" + url + "': " + e.getMessage());
        }
        String scheme = Optional.ofNullable(u.getScheme()).orElse("");
        if (!(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null || !url.startsWith(scheme + "://")) {
            throw new ProtocolException(rpc + " must return a fully qualified http(s) URL, got '" + url + "'");
        }
        // Only the scheme changes; the rest (the single-use token) is kept byte for byte.
        return URI.create((scheme.equals("https") ? "wss" : "ws") + url.substring(scheme.length()));
    }

    static String abbreviate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
