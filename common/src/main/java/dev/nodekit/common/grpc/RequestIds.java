package dev.nodekit.common.grpc;

import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

import io.grpc.Context;
import io.grpc.Metadata;

/**
 * The request id of a gRPC call: taken from the caller's {@code x-request-id} header when it is a
 * sane token, else generated; echoed in the response headers; available to handlers through
 * {@link #current()} and to every log line through the SLF4J MDC key {@value #MDC_KEY}. Set by the
 * outermost interceptor of {@link StandardInterceptors#standard}.
 */
public final class RequestIds {
    /** The request/response header carrying the id. */
    public static final Metadata.Key<String> METADATA_KEY =
            Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);
    /** The gRPC context key holding the id for the duration of a call. */
    public static final Context.Key<String> CONTEXT_KEY = Context.key("nodekit-request-id");
    /** The MDC key under which log lines carry the id. */
    public static final String MDC_KEY = "request_id";
    /** Longest caller-supplied id accepted; longer ones are replaced by a generated id. */
    public static final int MAX_LENGTH = 64;

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private RequestIds() {
    }

    /** The id of the call whose context is current, if this runs inside a call. */
    public static Optional<String> current() {
        return Optional.ofNullable(CONTEXT_KEY.get());
    }

    /** A new 12-hex-digit id (48 random bits: unique enough to grep a node's logs). */
    public static String generate() {
        long r = ThreadLocalRandom.current().nextLong();
        char[] c = new char[12];
        for (int i = 0; i < c.length; i++) {
            c[i] = HEX[(int) (r >>> (4 * i)) & 0xf];
        }
        return new String(c);
    }

    /**
     * Whether a caller-supplied id may be used as is: 1 to {@value #MAX_LENGTH} characters of
     * {@code [A-Za-z0-9._:-]}. Anything else (spaces, quotes, newlines) could forge log lines.
     */
    public static boolean isAcceptable(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_LENGTH) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == ':' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
