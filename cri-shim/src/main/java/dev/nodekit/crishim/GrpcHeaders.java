package dev.nodekit.crishim;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.util.AsciiString;

/** The few gRPC-over-HTTP/2 header rules the frame relay needs: status, message coding, timeout. */
final class GrpcHeaders {
    static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");
    static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

    private GrpcHeaders() {
    }

    /** The code a {@code grpc-status} value stands for; a missing or malformed one is UNKNOWN (as gRPC clients read it). */
    static Status.Code code(CharSequence value) {
        if (value == null || value.length() == 0 || value.length() > 2) {
            return Status.Code.UNKNOWN;
        }
        int n = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return Status.Code.UNKNOWN;
            }
            n = n * 10 + (c - '0');
        }
        return n <= Status.Code.UNAUTHENTICATED.value() ? Status.fromCodeValue(n).getCode() : Status.Code.UNKNOWN;
    }

    /** {@code grpc-message} coding: UTF-8, bytes outside printable ASCII and '%' as %XX. */
    static String percentEncode(String message) {
        byte[] utf8 = message.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(utf8.length + 16);
        for (byte b : utf8) {
            if (b >= 0x20 && b < 0x7f && b != '%') {
                out.write(b);
            } else {
                out.write('%');
                out.write(HEX[(b >> 4) & 0xf]);
                out.write(HEX[b & 0xf]);
            }
        }
        return out.toString(StandardCharsets.US_ASCII);
    }

    /** The inverse of {@link #percentEncode}; a malformed escape is kept as it is, as gRPC does. */
    static String percentDecode(CharSequence value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '%' && i + 2 < value.length() && hex(value.charAt(i + 1)) >= 0 && hex(value.charAt(i + 2)) >= 0) {
                out.write(hex(value.charAt(i + 1)) << 4 | hex(value.charAt(i + 2)));
                i += 2;
            } else {
                out.write(c & 0xff);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static int hex(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    }

    /** A {@code grpc-timeout} value (1-8 digits and a unit H M S m u n) in nanoseconds, -1 if absent or malformed. */
    static long timeoutNanos(CharSequence value) {
        if (value == null || value.length() < 2 || value.length() > 9) {
            return -1;
        }
        long n = 0;
        for (int i = 0; i < value.length() - 1; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        TimeUnit unit = switch (value.charAt(value.length() - 1)) {
            case 'H' -> TimeUnit.HOURS;
            case 'M' -> TimeUnit.MINUTES;
            case 'S' -> TimeUnit.SECONDS;
            case 'm' -> TimeUnit.MILLISECONDS;
            case 'u' -> TimeUnit.MICROSECONDS;
            case 'n' -> TimeUnit.NANOSECONDS;
            default -> null;
        };
        return unit == null ? -1 : unit.toNanos(n);
    }
}
