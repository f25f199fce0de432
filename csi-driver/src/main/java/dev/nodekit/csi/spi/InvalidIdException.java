package dev.nodekit.csi.spi;

/**
 * A volume or snapshot id that is not a valid nodekit id. The service layer answers NOT_FOUND
 * (a well-formed request for an object that cannot exist here) or INVALID_ARGUMENT as the CSI
 * spec says for the RPC.
 */
public final class InvalidIdException extends Exception {
    private static final long serialVersionUID = 1L;
    private final ObjectId.Kind kind;

    public InvalidIdException(ObjectId.Kind kind, String text, String problem) {
        super(kind.name().toLowerCase(java.util.Locale.ROOT) + " id '" + shorten(text) + "' " + problem);
        this.kind = kind;
    }

    public ObjectId.Kind kind() {
        return kind;
    }

    private static String shorten(String s) {
        String clean = s.replaceAll("[^\\x21-\\x7e]", "?");
        return clean.length() > 64 ? clean.substring(0, 64) + "..." : clean;
    }
}
