package dev.nodekit.common.fs;

import java.io.IOException;
import java.util.OptionalInt;

/**
 * A versioned file cannot be read by this build: its version is newer than this nodekit
 * understands, older than it can migrate, missing or not a number, or a migration step failed.
 * The message names the file and says what to do.
 */
public final class FormatVersionException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final OptionalInt foundVersion;

    FormatVersionException(String source, OptionalInt foundVersion, String message, Throwable cause) {
        super(source + ": " + message, cause);
        this.source = source;
        this.foundVersion = foundVersion;
    }

    /** The file (or other source) that was being read. */
    public String source() {
        return source;
    }

    /** The version found in it, empty when it had none. */
    public OptionalInt foundVersion() {
        return foundVersion;
    }
}
