package dev.nodekit.csi.spi;

/**
 * Everything a backend can fail with, as checked exceptions that carry what they are about. The
 * CSI service layer maps each kind to a gRPC code exactly once (its StatusMapper); a backend never
 * sees gRPC. Messages are written for an operator: they name the object and the reason, never a
 * secret.
 */
public abstract sealed class StorageException extends Exception {
    private static final long serialVersionUID = 1L;

    protected StorageException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The image, snapshot or source does not exist (NOT_FOUND). */
    public static final class NotFound extends StorageException {
        private static final long serialVersionUID = 1L;

        public NotFound(String message) {
            super(message, null);
        }
    }

    /** The name exists with incompatible properties (ALREADY_EXISTS). */
    public static final class Conflict extends StorageException {
        private static final long serialVersionUID = 1L;

        public Conflict(String message) {
            super(message, null);
        }
    }

    /** A parameter or value the backend does not accept; the message names the field (INVALID_ARGUMENT). */
    public static final class InvalidArgument extends StorageException {
        private static final long serialVersionUID = 1L;

        public InvalidArgument(String message) {
            super(message, null);
        }
    }

    /** Another operation on the same object is in progress (ABORTED; the CO retries). */
    public static final class Pending extends StorageException {
        private static final long serialVersionUID = 1L;

        public Pending(String message) {
            super(message, null);
        }
    }

    /** A list token that this backend did not hand out or that is no longer valid (ABORTED). */
    public static final class InvalidToken extends StorageException {
        private static final long serialVersionUID = 1L;

        public InvalidToken(String message) {
            super(message, null);
        }
    }

    /** Not enough space or too many objects (RESOURCE_EXHAUSTED). */
    public static final class CapacityExceeded extends StorageException {
        private static final long serialVersionUID = 1L;

        public CapacityExceeded(String message) {
            super(message, null);
        }
    }

    /** A size the backend cannot provide, e.g. smaller than the source (OUT_OF_RANGE). */
    public static final class OutOfRange extends StorageException {
        private static final long serialVersionUID = 1L;

        public OutOfRange(String message) {
            super(message, null);
        }
    }

    /** The object is in a state that forbids the operation: in use, has dependents (FAILED_PRECONDITION). */
    public static final class FailedPrecondition extends StorageException {
        private static final long serialVersionUID = 1L;

        public FailedPrecondition(String message) {
            super(message, null);
        }
    }

    /** The credentials do not allow the operation (PERMISSION_DENIED). */
    public static final class PermissionDenied extends StorageException {
        private static final long serialVersionUID = 1L;

        public PermissionDenied(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The storage system cannot be reached now (UNAVAILABLE; the CO retries). */
    public static final class Unavailable extends StorageException {
        private static final long serialVersionUID = 1L;

        public Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Anything else that went wrong in the backend (INTERNAL); the cause is logged by the service. */
    public static final class Internal extends StorageException {
        private static final long serialVersionUID = 1L;

        public Internal(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
