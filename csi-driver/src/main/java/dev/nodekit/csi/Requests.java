package dev.nodekit.csi;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import dev.nodekit.csi.spi.InvalidIdException;
import dev.nodekit.csi.spi.ObjectId;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Field checks shared by the services; each failure is one status naming the field (CSI spec §1 limits). */
final class Requests {
    /** CSI: strings are at most 128 bytes unless the field says otherwise. */
    static final int MAX_STRING_BYTES = 128;
    /** CSI: a map (parameters, secrets, contexts) is at most 4 KiB in total. */
    static final int MAX_MAP_BYTES = 4096;
    /** Paths override the string limit; Linux' PATH_MAX. */
    static final int MAX_PATH_BYTES = 4096;

    private Requests() {
    }

    static StatusRuntimeException invalid(String message) {
        return status(Status.INVALID_ARGUMENT, message);
    }

    static StatusRuntimeException notFound(String message) {
        return status(Status.NOT_FOUND, message);
    }

    static StatusRuntimeException alreadyExists(String message) {
        return status(Status.ALREADY_EXISTS, message);
    }

    static StatusRuntimeException failedPrecondition(String message) {
        return status(Status.FAILED_PRECONDITION, message);
    }

    static StatusRuntimeException outOfRange(String message) {
        return status(Status.OUT_OF_RANGE, message);
    }

    static StatusRuntimeException resourceExhausted(String message) {
        return status(Status.RESOURCE_EXHAUSTED, message);
    }

    static StatusRuntimeException internal(String message, Throwable cause) {
        return Status.INTERNAL.withDescription(message).withCause(cause).asRuntimeException();
    }

    /** A status with a description and no details (the CSI spec requires {@code details} to be empty). */
    static StatusRuntimeException status(Status status, String message) {
        return status.withDescription(message).asRuntimeException();
    }

    /** {@code value} unless it is empty. */
    static String required(String value, String field) {
        if (value == null || value.isEmpty()) {
            throw invalid(field + " is required");
        }
        return value;
    }

    /**
     * A CreateVolume/CreateSnapshot request name: required, at most 128 bytes, no control
     * characters (U+0000-0008, 000B, 000C, 000E-001F, 007F-009F; the spec allows tab, LF and CR).
     */
    static String name(String value, String field) {
        required(value, field);
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_STRING_BYTES) {
            throw invalid(field + " is " + bytes + " bytes; at most " + MAX_STRING_BYTES + " are allowed");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            boolean control = c <= 0x08 || c == 0x0b || c == 0x0c || (c >= 0x0e && c <= 0x1f) || (c >= 0x7f && c <= 0x9f);
            if (control) {
                throw invalid(field + " contains the control character U+" + String.format("%04X", (int) c)
                        + " at index " + i);
            }
        }
        return value;
    }

    /** Checks the 4 KiB limit on a map's keys and values together. */
    static void mapSize(Map<String, String> map, String field) {
        long bytes = 0;
        for (Map.Entry<String, String> e : map.entrySet()) {
            bytes += e.getKey().getBytes(StandardCharsets.UTF_8).length + e.getValue().getBytes(StandardCharsets.UTF_8).length;
        }
        if (bytes > MAX_MAP_BYTES) {
            throw invalid(field + " holds " + bytes + " bytes of keys and values; at most " + MAX_MAP_BYTES
                    + " are allowed");
        }
    }

    /**
     * A path the CO gave (staging or target path, volume path): required, absolute, at most
     * {@value #MAX_PATH_BYTES} bytes, no NUL and no {@code .} or {@code ..} segment, so that it
     * names exactly the place the CO meant and nothing we build from it can escape it.
     */
    static Path absolutePath(String value, String field) {
        required(value, field);
        if (value.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
            throw invalid(field + " is longer than " + MAX_PATH_BYTES + " bytes");
        }
        if (value.indexOf('\0') >= 0) {
            throw invalid(field + " contains a NUL byte");
        }
        if (!value.startsWith("/")) {
            throw invalid(field + " '" + shorten(value) + "' must be an absolute path");
        }
        for (String segment : value.split("/")) {
            if (segment.equals(".") || segment.equals("..")) {
                throw invalid(field + " '" + shorten(value) + "' must not contain '.' or '..' segments");
            }
        }
        Path p = Path.of(value).normalize();
        if (p.getNameCount() == 0) {
            throw invalid(field + " must not be the root directory");
        }
        return p;
    }

    /**
     * The id of an object that must exist for the call to proceed: an empty id is INVALID_ARGUMENT,
     * an over-long one INVALID_ARGUMENT (it breaks the spec's limit), anything else that does not
     * parse NOT_FOUND: a well-formed request about an object that cannot exist here, which is what
     * csi-sanity expects for made-up ids.
     */
    static ObjectId existingId(String value, ObjectId.Kind kind, String field) {
        return parse(value, kind, field).orElseThrow(() -> notFound(kindName(kind) + " '" + shorten(value)
                + "' does not exist (" + field + " is not a valid id of this driver)"));
    }

    /**
     * The id of an object a negating call (delete, unpublish) is about: empty or over-long ids are
     * INVALID_ARGUMENT; an id that does not parse is returned empty, since such an object cannot
     * exist and deleting what does not exist succeeds.
     */
    static Optional<ObjectId> idOrAbsent(String value, ObjectId.Kind kind, String field) {
        return parse(value, kind, field);
    }

    private static Optional<ObjectId> parse(String value, ObjectId.Kind kind, String field) {
        required(value, field);
        if (value.getBytes(StandardCharsets.UTF_8).length > ObjectId.MAX_BYTES) {
            throw invalid(field + " is longer than " + ObjectId.MAX_BYTES + " bytes");
        }
        try {
            return Optional.of(ObjectId.parse(value, kind));
        } catch (InvalidIdException e) {
            return Optional.empty();
        }
    }

    /** An optional id filter (ListSnapshots): empty when unset, empty Optional-of-empty when it cannot exist. */
    static Optional<Optional<ObjectId>> filter(String value, ObjectId.Kind kind) {
        if (value == null || value.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Optional.of(ObjectId.parse(value, kind)));
        } catch (InvalidIdException e) {
            return Optional.of(Optional.empty());
        }
    }

    static String kindName(ObjectId.Kind kind) {
        return kind == ObjectId.Kind.VOLUME ? "volume" : "snapshot";
    }

    /** Input echoed in messages: printable ASCII only, at most 64 characters. */
    static String shorten(String s) {
        String clean = s.replaceAll("[^\\x20-\\x7e]", "?");
        return clean.length() > 64 ? clean.substring(0, 64) + "..." : clean;
    }
}
