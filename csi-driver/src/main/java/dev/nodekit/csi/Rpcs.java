package dev.nodekit.csi;

import java.io.IOException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.mount.MountException;
import dev.nodekit.csi.spi.StorageException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

/**
 * Runs one unary RPC body and answers exactly once: the response; a status the body threw; the
 * {@link StatusMapper}'s status for a backend failure; ALREADY_EXISTS for a mount point taken by
 * something else; INTERNAL, with the cause logged once, for a failed host command or I/O. A
 * runtime exception escapes to the standard catch-all interceptor (INTERNAL, cause logged).
 */
final class Rpcs {
    private static final Logger log = LoggerFactory.getLogger(Rpcs.class);

    private Rpcs() {
    }

    /** The body of an RPC: validation throws statuses, the backend {@link StorageException}, host tools theirs. */
    @FunctionalInterface
    interface Body<T> {
        T call() throws StorageException, MountException, CommandException, IOException;
    }

    static <T> void unary(String operation, StreamObserver<T> out, Body<T> body) {
        T response;
        try {
            response = body.call();
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        } catch (StorageException e) {
            out.onError(StatusMapper.toStatus(e, operation));
            return;
        } catch (MountException e) {
            if (e.isConflict()) {
                out.onError(Requests.alreadyExists(e.getMessage()));
                return;
            }
            out.onError(internal(operation, "mount failed: " + e.getMessage(), e));
            return;
        } catch (CommandException e) {
            out.onError(internal(operation, e.getMessage(), e));
            return;
        } catch (IOException e) {
            out.onError(internal(operation, "I/O error: " + e, e));
            return;
        }
        out.onNext(response);
        out.onCompleted();
    }

    private static StatusRuntimeException internal(String operation, String message, Exception cause) {
        log.atError().addKeyValue("operation", operation).setCause(cause).log("node operation failed");
        return Requests.status(Status.INTERNAL, message);
    }
}
