package dev.nodekit.cni.daemon;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The wire protocol between the thin CNI client ({@code nodekit-cni-client.c}) and
 * {@link CniDaemon}: raw bytes in, raw bytes out, so the client never parses JSON. Version 1,
 * integers big-endian:
 *
 * <pre>
 * client -&gt; daemon  "NKCR" ver:u8 name_len:u8 name env_len:u32 env ("K=V\0"...) stdin_len:u32 stdin
 * daemon -&gt; client  "NKCA" ver:u8                                   ready: read, nothing started
 *                    "NKCE" ver:u8 code:u8 msg_len:u32 msg           refused, nothing started
 * client -&gt; daemon  'G'                                             commit
 * daemon -&gt; client  "NKCD" ver:u8 exit:u8 out_len:u32 out err_len:u32 err
 * </pre>
 *
 * <p>The commit byte is what makes the client's fallback safe: the daemon starts a call only after
 * reading it, and the client writes it only after "ready", so before the commit neither side has
 * started anything and the client may run the call through its JVM launcher instead; after the
 * commit, the daemon owns the call. A daemon answers a request of a newer version with a refusal
 * {@link #REFUSED_VERSION} in its own version (the client falls back and prints the message);
 * a client refuses an answer of a newer version than its own the same way.
 *
 * <p>Only {@code CNI_*} variables travel; the plugin name is the client's file name
 * ({@code nodekit-bridge}, {@code loopback}...). Limits: name 255 bytes, environment 1 MiB, stdin
 * and stdout 16 MiB, stderr 1 MiB (the daemon truncates a longer stderr).
 */
public final class CniWire {
    /** The protocol version this side speaks (and the newest it accepts). */
    public static final int VERSION = 1;
    /** Refusal: the request's protocol version is newer than the daemon's. */
    public static final int REFUSED_VERSION = 1;
    /** Refusal: the daemon is at its connection limit (the client answers CNI code 11). */
    public static final int REFUSED_BUSY = 2;
    /** Refusal: the request is malformed or too large. */
    public static final int REFUSED_MALFORMED = 3;
    /** Refusal: the peer is not the daemon's own user. */
    public static final int REFUSED_FORBIDDEN = 4;

    /** The commit byte. */
    public static final int COMMIT = 'G';
    /** Largest environment block. */
    public static final int MAX_ENV = 1 << 20;
    /** Largest stdin and stdout. */
    public static final int MAX_DATA = 16 << 20;
    /** Largest stderr (longer is truncated by the daemon). */
    public static final int MAX_STDERR = 1 << 20;

    private static final byte[] REQUEST = {'N', 'K', 'C', 'R'};
    private static final byte[] READY = {'N', 'K', 'C', 'A'};
    private static final byte[] REFUSED = {'N', 'K', 'C', 'E'};
    private static final byte[] DONE = {'N', 'K', 'C', 'D'};

    private CniWire() {
    }

    /**
     * One CNI call as the client sends it.
     *
     * @param version protocol version of the frame
     * @param plugin  the executable name the runtime ran (a file name, 1..255 bytes)
     * @param env     the {@code CNI_*} variables
     * @param stdin   the network configuration bytes, unparsed
     */
    public record Request(int version, String plugin, Map<String, String> env, byte[] stdin) {
        public Request {
            if (version < 1 || version > 255) {
                throw new IllegalArgumentException("protocol version " + version + " out of range");
            }
            Objects.requireNonNull(plugin, "plugin");
            int len = plugin.getBytes(StandardCharsets.UTF_8).length;
            if (len == 0 || len > 255 || plugin.indexOf('/') >= 0 || plugin.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("plugin name '" + plugin + "' must be a file name of 1..255 bytes");
            }
            Map<String, String> copy = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : env.entrySet()) {
                String k = e.getKey();
                if (!k.startsWith("CNI_") || k.indexOf('=') >= 0 || k.indexOf('\0') >= 0
                        || e.getValue().indexOf('\0') >= 0) {
                    throw new IllegalArgumentException("environment entry '" + k + "' is not a CNI_ variable");
                }
                copy.put(k, e.getValue());
            }
            env = Collections.unmodifiableMap(copy);
            stdin = stdin.clone();
            if (stdin.length > MAX_DATA) {
                throw new IllegalArgumentException("stdin larger than " + MAX_DATA + " bytes");
            }
        }

        /** A request of this side's version. */
        public static Request of(String plugin, Map<String, String> env, byte[] stdin) {
            return new Request(VERSION, plugin, env, stdin);
        }

        @Override
        public byte[] stdin() {
            return stdin.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Request r && r.version == version && r.plugin.equals(plugin) && r.env.equals(env)
                    && Arrays.equals(r.stdin, stdin);
        }

        @Override
        public int hashCode() {
            return Objects.hash(version, plugin, env, Arrays.hashCode(stdin));
        }

        @Override
        public String toString() {
            return "Request[v" + version + " " + plugin + " " + env.get("CNI_COMMAND") + " stdin=" + stdin.length + "B]";
        }
    }

    /**
     * The daemon's answer to a committed request: what the plugin would have exited with and written.
     *
     * @param exit   process exit code (0..255)
     * @param stdout the result or error object
     * @param stderr messages for the runtime's log (at most {@link #MAX_STDERR})
     */
    public record Answer(int exit, byte[] stdout, byte[] stderr) {
        public Answer {
            if (exit < 0 || exit > 255) {
                throw new IllegalArgumentException("exit code " + exit + " out of range");
            }
            stdout = stdout.clone();
            stderr = stderr.length > MAX_STDERR ? Arrays.copyOf(stderr, MAX_STDERR) : stderr.clone();
            if (stdout.length > MAX_DATA) {
                throw new IllegalArgumentException("stdout larger than " + MAX_DATA + " bytes");
            }
        }

        @Override
        public byte[] stdout() {
            return stdout.clone();
        }

        @Override
        public byte[] stderr() {
            return stderr.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Answer a && a.exit == exit && Arrays.equals(a.stdout, stdout)
                    && Arrays.equals(a.stderr, stderr);
        }

        @Override
        public int hashCode() {
            return Objects.hash(exit, Arrays.hashCode(stdout), Arrays.hashCode(stderr));
        }

        @Override
        public String toString() {
            return "Answer[exit=" + exit + " stdout=" + stdout.length + "B stderr=" + stderr.length + "B]";
        }
    }

    /**
     * The daemon's reply to a request before the commit.
     *
     * @param version  the protocol version the daemon answered in
     * @param refusal  0 for ready, else the refusal code
     * @param message  the refusal's message, empty for ready
     */
    public record Reply(int version, int refusal, String message) {
        /** Whether the daemon is ready to run the call once committed. */
        public boolean ready() {
            return refusal == 0;
        }
    }

    // ------------------------------------------------------------------ daemon side

    /**
     * Reads a request.
     *
     * @throws WireException for a malformed or oversized frame, or one of a newer version
     * @throws EOFException  when the client closed before a whole frame arrived
     */
    public static Request readRequest(InputStream in) throws IOException, WireException {
        DataInputStream d = new DataInputStream(in);
        byte[] magic = new byte[4];
        d.readFully(magic);
        if (!Arrays.equals(magic, REQUEST)) {
            throw new WireException(REFUSED_MALFORMED, "not a nodekit CNI request (bad magic)");
        }
        int version = d.readUnsignedByte();
        if (version > VERSION) {
            throw new WireException(REFUSED_VERSION, "request in protocol version " + version
                    + ", this daemon speaks up to " + VERSION + "; upgrade the nodekit CNI daemon");
        }
        if (version < 1) {
            throw new WireException(REFUSED_MALFORMED, "protocol version 0 does not exist");
        }
        int nameLen = d.readUnsignedByte();
        byte[] name = new byte[nameLen];
        d.readFully(name);
        byte[] env = readBlock(d, MAX_ENV, "environment");
        byte[] stdin = readBlock(d, MAX_DATA, "stdin");
        Map<String, String> vars = new LinkedHashMap<>();
        int start = 0;
        for (int i = 0; i < env.length; i++) {
            if (env[i] != 0) {
                continue;
            }
            String kv = new String(env, start, i - start, StandardCharsets.UTF_8);
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new WireException(REFUSED_MALFORMED, "environment entry without '=': " + abbreviate(kv));
            }
            vars.put(kv.substring(0, eq), kv.substring(eq + 1));
            start = i + 1;
        }
        if (start != env.length) {
            throw new WireException(REFUSED_MALFORMED, "environment block does not end with NUL");
        }
        try {
            return new Request(version, new String(name, StandardCharsets.UTF_8), vars, stdin);
        } catch (IllegalArgumentException e) {
            throw new WireException(REFUSED_MALFORMED, e.getMessage());
        }
    }

    private static byte[] readBlock(DataInputStream d, int max, String what) throws IOException, WireException {
        long len = d.readInt() & 0xffffffffL;
        if (len > max) {
            throw new WireException(REFUSED_MALFORMED, what + " of " + len + " bytes exceeds the limit of " + max);
        }
        byte[] b = new byte[(int) len];
        d.readFully(b);
        return b;
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    /** Tells the client its request was read and nothing has started ("ready"). */
    public static void writeReady(OutputStream out, int version) throws IOException {
        byte[] b = {READY[0], READY[1], READY[2], READY[3], (byte) version};
        out.write(b);
        out.flush();
    }

    /** Refuses a request before anything started; {@code message} ends up on the client's stderr. */
    public static void writeRefusal(OutputStream out, int code, String message) throws IOException {
        byte[] msg = message.getBytes(StandardCharsets.UTF_8);
        if (msg.length > 1000) {
            msg = Arrays.copyOf(msg, 1000);
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream(16 + msg.length);
        b.write(REFUSED);
        b.write(VERSION);
        b.write(code);
        writeInt(b, msg.length);
        b.write(msg);
        out.write(b.toByteArray());
        out.flush();
    }

    /**
     * Waits for the commit byte.
     *
     * @return true when the client committed, false when it closed the connection instead (it gave
     *         up waiting for "ready" and runs the call itself)
     */
    public static boolean readCommit(InputStream in) throws IOException, WireException {
        int b = in.read();
        if (b == -1) {
            return false;
        }
        if (b != COMMIT) {
            throw new WireException(REFUSED_MALFORMED, "expected the commit byte, got " + b);
        }
        return true;
    }

    /** Sends the answer to a committed request, in the request's protocol version. */
    public static void writeDone(OutputStream out, int version, Answer answer) throws IOException {
        byte[] o = answer.stdout;
        byte[] e = answer.stderr;
        ByteArrayOutputStream b = new ByteArrayOutputStream(18 + o.length + e.length);
        b.write(DONE);
        b.write(version);
        b.write(answer.exit);
        writeInt(b, o.length);
        b.write(o);
        writeInt(b, e.length);
        b.write(e);
        out.write(b.toByteArray());
        out.flush();
    }

    // ------------------------------------------------------------------ client side (tests, tools)

    /** Writes a request frame. */
    public static void writeRequest(OutputStream out, Request r) throws IOException {
        byte[] name = r.plugin.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream env = new ByteArrayOutputStream();
        for (Map.Entry<String, String> e : r.env.entrySet()) {
            env.write((e.getKey() + "=" + e.getValue()).getBytes(StandardCharsets.UTF_8));
            env.write(0);
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream(16 + name.length + env.size() + r.stdin.length);
        b.write(REQUEST);
        b.write(r.version);
        b.write(name.length);
        b.write(name);
        writeInt(b, env.size());
        env.writeTo(b);
        writeInt(b, r.stdin.length);
        b.write(r.stdin);
        out.write(b.toByteArray());
        out.flush();
    }

    /**
     * Reads the daemon's reply to a request.
     *
     * @throws WireException when the reply is not the protocol or of a newer version
     */
    public static Reply readReply(InputStream in) throws IOException, WireException {
        DataInputStream d = new DataInputStream(in);
        byte[] magic = new byte[4];
        d.readFully(magic);
        int version = d.readUnsignedByte();
        if (version > VERSION || version < 1) {
            throw new WireException(REFUSED_VERSION, "daemon answered in protocol version " + version
                    + ", this client speaks " + VERSION);
        }
        if (Arrays.equals(magic, READY)) {
            return new Reply(version, 0, "");
        }
        if (!Arrays.equals(magic, REFUSED)) {
            throw new WireException(REFUSED_MALFORMED, "not a nodekit CNI reply (bad magic)");
        }
        int code = d.readUnsignedByte();
        byte[] msg = readBlock(d, 1 << 16, "refusal message");
        return new Reply(version, code, new String(msg, StandardCharsets.UTF_8));
    }

    /** Sends the commit byte. */
    public static void writeCommit(OutputStream out) throws IOException {
        out.write(COMMIT);
        out.flush();
    }

    /**
     * Reads the answer to a committed request.
     *
     * @throws EOFException when the daemon closed the connection without answering (it died)
     */
    public static Answer readAnswer(InputStream in, int version) throws IOException, WireException {
        DataInputStream d = new DataInputStream(in);
        byte[] magic = new byte[4];
        d.readFully(magic);
        int v = d.readUnsignedByte();
        if (!Arrays.equals(magic, DONE) || v != version) {
            throw new WireException(REFUSED_MALFORMED, "not a nodekit CNI answer of version " + version);
        }
        int exit = d.readUnsignedByte();
        byte[] out = readBlock(d, MAX_DATA, "stdout");
        byte[] err = readBlock(d, MAX_STDERR, "stderr");
        return new Answer(exit, out, err);
    }

    private static void writeInt(ByteArrayOutputStream b, int v) {
        b.write(v >>> 24);
        b.write(v >>> 16);
        b.write(v >>> 8);
        b.write(v);
    }
}
