package dev.nodekit.spec.cni;

import java.util.Optional;

/**
 * The one CNI failure: a spec error code ({@link CniError} constants), a message and optional
 * details. The plugin dispatcher catches it once and prints {@link #toError(CniVersion)} on stdout.
 * Decoding methods of this package throw it with code {@link CniError#DECODING_FAILURE} (bad JSON or
 * wrong JSON types), {@link CniError#INVALID_NETWORK_CONFIG} (a config value fails validation) or
 * {@link CniError#INCOMPATIBLE_CNI_VERSION}; the message names the offending field by its path, e.g.
 * {@code prevResult.ips[0].address: '10.0.0.1' is not a CIDR (expected ADDRESS/PREFIX)}.
 */
public class CniException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int code;
    private final String details;

    /** A failure with a code and a message. */
    public CniException(int code, String msg) {
        this(code, msg, null, null);
    }

    /** A failure with a code, a message and details ({@code null} or empty: none). */
    public CniException(int code, String msg, String details) {
        this(code, msg, details, null);
    }

    /** A failure with a code, a message, details and the exception that caused it. */
    public CniException(int code, String msg, String details, Throwable cause) {
        super(msg == null ? "" : msg, cause);
        if (code < 0) {
            throw new IllegalArgumentException("code: " + code + " is negative");
        }
        this.code = code;
        this.details = details == null || details.isEmpty() ? null : details;
    }

    /** The CNI error code (see the {@link CniError} constants; 100 and above are plugin-specific). */
    public int code() {
        return code;
    }

    /** Extra detail for the {@code details} field of the error body, if any. */
    public Optional<String> details() {
        return Optional.ofNullable(details);
    }

    /** The error body to print, labelled with {@code version} (the cniVersion of the request). */
    public CniError toError(CniVersion version) {
        return new CniError(Optional.ofNullable(version), code, getMessage(), details());
    }

    @Override
    public String toString() {
        String s = "CniException{code=" + code + ", msg=" + getMessage();
        return details == null ? s + "}" : s + ", details=" + details + "}";
    }
}
