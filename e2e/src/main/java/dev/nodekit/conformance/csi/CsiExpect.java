package dev.nodekit.conformance.csi;

import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;

import dev.nodekit.conformance.CheckFailed;
import dev.nodekit.conformance.CheckSkipped;
import dev.nodekit.conformance.Expect;
import dev.nodekit.conformance.Parallel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/**
 * CSI-specific assertions. Every expected error is also checked for the CSI error scheme: a
 * human-readable {@code message} and empty {@code details} (both MUSTs of the spec), so each error
 * check also proves the reply is well formed.
 */
final class CsiExpect {
    /** Concurrent duplicates of an operation, as a CO that lost its state would send them. */
    static final int CONCURRENCY = 8;
    /** Sequential repeats of an operation, as a CO that timed out would send them. */
    static final int REPEATS = 3;

    private CsiExpect() {
    }

    /** Fails unless {@code call} fails with {@code code} and a well-formed CSI error. */
    static StatusRuntimeException error(Status.Code code, String what, Expect.Call call) {
        StatusRuntimeException e = Expect.status(code, what, call);
        wellFormed(e, what);
        return e;
    }

    /** Fails unless {@code call} fails with one of {@code codes} (the spec allows several) and a well-formed error. */
    static StatusRuntimeException errorIn(Set<Status.Code> codes, String what, Expect.Call call) {
        Object result;
        try {
            result = call.run();
        } catch (StatusRuntimeException e) {
            if (!codes.contains(e.getStatus().getCode())) {
                throw new CheckFailed(what + ": expected one of " + codes + ", got " + describe(e));
            }
            wellFormed(e, what);
            return e;
        } catch (CheckFailed | CheckSkipped e) {
            throw e;
        } catch (Exception e) {
            throw new CheckFailed(what + ": expected one of " + codes + ", got " + e, e);
        }
        throw new CheckFailed(what + ": expected one of " + codes + " but the call succeeded: " + Expect.oneLine(result));
    }

    static Set<Status.Code> codes(Status.Code first, Status.Code... rest) {
        return EnumSet.of(first, rest);
    }

    /** Fails unless the status has a non-blank message and no details (CSI: "details MUST be empty"). */
    static void wellFormed(StatusRuntimeException e, String what) {
        String msg = e.getStatus().getDescription();
        if (msg == null || msg.isBlank()) {
            throw new CheckFailed(what + ": the " + e.getStatus().getCode()
                    + " reply has an empty message; CSI requires a human-readable description");
        }
        com.google.rpc.Status proto = StatusProto.fromThrowable(e);
        if (proto != null && proto.getDetailsCount() > 0) {
            throw new CheckFailed(what + ": the " + e.getStatus().getCode() + " reply carries "
                    + proto.getDetailsCount() + " status detail(s); CSI requires details to be empty");
        }
    }

    /** OK (the value) or ABORTED (empty: "operation pending", allowed for concurrent duplicates); anything else fails. */
    static <R> Optional<R> okOrAborted(String what, Callable<R> call) {
        try {
            return Optional.of(call.call());
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.ABORTED) {
                wellFormed(e, what);
                return Optional.empty();
            }
            throw new CheckFailed(what + ": expected OK or ABORTED, got " + describe(e), e);
        } catch (CheckFailed | CheckSkipped e) {
            throw e;
        } catch (Exception e) {
            throw new CheckFailed(what + ": " + e, e);
        }
    }

    /**
     * Sends {@code call} {@link #CONCURRENCY} times at once; each answer must be OK or ABORTED. Returns
     * the OK answers (possibly none: all ABORTED is allowed) for the caller to compare.
     */
    static <R> List<R> concurrently(String what, Callable<R> call) throws InterruptedException {
        List<Optional<R>> all = Parallel.times(CONCURRENCY, () -> okOrAborted(what + " (concurrent)", call));
        return all.stream().flatMap(Optional::stream).toList();
    }

    /**
     * Retries {@code call} while it answers ABORTED (an operation on the same object may still be
     * running after a concurrent burst), up to 10 s; then it must answer OK.
     */
    static <R> R eventuallyOk(String what, Callable<R> call) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            Optional<R> r = okOrAborted(what, call);
            if (r.isPresent()) {
                return r.get();
            }
            if (System.nanoTime() > deadline) {
                throw new CheckFailed(what + ": still ABORTED after 10 s with no other call in flight");
            }
            Thread.sleep(100);
        }
    }

    static String describe(StatusRuntimeException e) {
        return e.getStatus().getCode() + (e.getStatus().getDescription() == null ? ""
                : " (" + e.getStatus().getDescription() + ")");
    }
}
