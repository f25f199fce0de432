package dev.nodekit.csi;

import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.csi.spi.StorageException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The one place a backend failure becomes a gRPC status: each {@link StorageException} kind maps
 * to exactly one code (CSI spec error tables, see the package notes), the message is the
 * backend's (written for an operator, never holding a secret) and {@code details} stay empty as
 * the spec requires. INTERNAL failures log their cause here, once, because the CO only sees the
 * message.
 */
final class StatusMapper {
    private static final Logger log = LoggerFactory.getLogger(StatusMapper.class);

    /** Every permitted subclass of the sealed {@link StorageException}; a unit test keeps it complete. */
    static final Map<Class<? extends StorageException>, Status.Code> CODES = Map.ofEntries(
            Map.entry(StorageException.NotFound.class, Status.Code.NOT_FOUND),
            Map.entry(StorageException.Conflict.class, Status.Code.ALREADY_EXISTS),
            Map.entry(StorageException.InvalidArgument.class, Status.Code.INVALID_ARGUMENT),
            // Both mean "try again later"; external-provisioner retries ABORTED with the same name.
            Map.entry(StorageException.Pending.class, Status.Code.ABORTED),
            Map.entry(StorageException.InvalidToken.class, Status.Code.ABORTED),
            Map.entry(StorageException.CapacityExceeded.class, Status.Code.RESOURCE_EXHAUSTED),
            Map.entry(StorageException.OutOfRange.class, Status.Code.OUT_OF_RANGE),
            Map.entry(StorageException.FailedPrecondition.class, Status.Code.FAILED_PRECONDITION),
            Map.entry(StorageException.PermissionDenied.class, Status.Code.PERMISSION_DENIED),
            Map.entry(StorageException.Unavailable.class, Status.Code.UNAVAILABLE),
            Map.entry(StorageException.Internal.class, Status.Code.INTERNAL));

    private StatusMapper() {
    }

    /** The status a CO receives for {@code e}; {@code operation} names the RPC in the INTERNAL log line. */
    static StatusRuntimeException toStatus(StorageException e, String operation) {
        Status.Code code = CODES.get(e.getClass());
        if (code == null) {
            // Unreachable while CODES is complete (a unit test checks it); fail safe if it is not.
            code = Status.Code.INTERNAL;
        }
        if (code == Status.Code.INTERNAL) {
            log.atError().addKeyValue("operation", operation).setCause(e).log("storage backend failed");
        } else if (code == Status.Code.UNAVAILABLE) {
            log.atWarn().addKeyValue("operation", operation).setCause(e).log("storage backend unavailable");
        }
        return Status.fromCode(code).withDescription(e.getMessage()).asRuntimeException();
    }
}
