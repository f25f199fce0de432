package dev.nodekit.conformance;

import java.util.Objects;

import dev.nodekit.common.grpc.Redactor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Assertions for check bodies. They throw {@link CheckFailed} with a message that says what the
 * rule is and what was seen, because that message is all an operator reads in the table.
 */
public final class Expect {
    private Expect() {
    }

    /** A call that is expected to throw a gRPC status. */
    @FunctionalInterface
    public interface Call {
        Object run() throws Exception;
    }

    /** Fails unless {@code call} fails with {@code code}; returns the exception for further checks. */
    public static StatusRuntimeException status(Status.Code code, String what, Call call) {
        Object result;
        try {
            result = call.run();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != code) {
                throw new CheckFailed(what + ": expected " + code + ", got " + e.getStatus().getCode()
                        + (e.getStatus().getDescription() == null ? "" : " (" + e.getStatus().getDescription() + ")"));
            }
            return e;
        } catch (CheckFailed | CheckSkipped e) {
            throw e;
        } catch (Exception e) {
            throw new CheckFailed(what + ": expected " + code + ", got " + e, e);
        }
        throw new CheckFailed(what + ": expected " + code + " but the call succeeded"
                + (result == null ? "" : ": " + oneLine(result)));
    }

    /** Fails with {@code message} unless {@code condition}. */
    public static void that(boolean condition, String message, Object... args) {
        if (!condition) {
            throw new CheckFailed(args.length == 0 ? message : String.format(message, args));
        }
    }

    /** Fails unless {@code actual} equals {@code expected}. */
    public static void equal(Object expected, Object actual, String what) {
        if (!Objects.equals(expected, actual)) {
            throw new CheckFailed(what + ": expected " + oneLine(expected) + ", got " + oneLine(actual));
        }
    }

    /** Fails with the rule and the status seen when {@code call} throws a gRPC status. */
    public static <R> R ok(String what, java.util.concurrent.Callable<R> call) {
        try {
            return call.call();
        } catch (StatusRuntimeException e) {
            throw new CheckFailed(what + ": expected OK, got " + e.getStatus().getCode()
                    + (e.getStatus().getDescription() == null ? "" : " (" + e.getStatus().getDescription() + ")"), e);
        } catch (CheckFailed | CheckSkipped e) {
            throw e;
        } catch (Exception e) {
            throw new CheckFailed(what + ": " + e, e);
        }
    }

    /** A message as one short line for failure texts. */
    public static String oneLine(Object o) {
        if (o == null) {
            return "null";
        }
        // Through the Redactor: a failure text may quote a request that carries secrets.
        String s = o instanceof com.google.protobuf.MessageOrBuilder m ? Redactor.toLogString(m) : String.valueOf(o);
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }
}
