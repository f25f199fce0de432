package dev.nodekit.spec.cni;

/**
 * Internal, unchecked carrier of a decoding problem; the public entry points turn it into a
 * {@link CniException} whose code depends on the document (config vs result).
 */
final class DecodeFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** JSON shape or token type is wrong (CNI code 6). */
    static final int SHAPE = 0;
    /** Well-formed JSON with an invalid value (code 7 in a config, 6 in a result). */
    static final int INVALID = 1;
    /** A CNI version nodekit cannot handle (code 1). */
    static final int VERSION = 2;

    final int kind;

    DecodeFailure(int kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    /** The CNI error code for this failure in a network configuration ({@code config}) or a result. */
    int code(boolean config) {
        if (kind == VERSION) {
            return CniError.INCOMPATIBLE_CNI_VERSION;
        }
        if (kind == INVALID && config) {
            return CniError.INVALID_NETWORK_CONFIG;
        }
        return CniError.DECODING_FAILURE;
    }

    CniException toCniException(boolean config) {
        return new CniException(code(config), getMessage(), null, getCause());
    }
}
