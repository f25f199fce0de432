package dev.nodekit.common.config;

/**
 * A configuration file cannot be used. The message reads like a compiler error, so an operator can
 * jump to the spot: {@code /etc/nodekit/cri.yaml:12:5: interceptors[1].timeout: cannot parse '5 sec'
 * as a duration (...)}. Line and column are 1-based, 0 when unknown (an unreadable file).
 */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final int line;
    private final int column;
    private final String fieldPath;
    private final String detail;

    ConfigException(String source, int line, int column, String fieldPath, String detail, Throwable cause) {
        super(format(source, line, column, fieldPath, detail), cause);
        this.source = source;
        this.line = line;
        this.column = column;
        this.fieldPath = fieldPath;
        this.detail = detail;
    }

    private static String format(String source, int line, int column, String fieldPath, String detail) {
        StringBuilder sb = new StringBuilder(source);
        if (line > 0) {
            sb.append(':').append(line);
            if (column > 0) {
                sb.append(':').append(column);
            }
        }
        sb.append(": ");
        if (!fieldPath.isEmpty()) {
            sb.append(fieldPath).append(": ");
        }
        return sb.append(detail).toString();
    }

    /** The file (or the name given to {@link ConfigLoader#parse}). */
    public String source() {
        return source;
    }

    /** 1-based line of the offending spot, 0 when unknown. */
    public int line() {
        return line;
    }

    /** 1-based column of the offending spot, 0 when unknown. */
    public int column() {
        return column;
    }

    /** Where in the document, like {@code interceptors[1].timeout}; empty for the document itself. */
    public String fieldPath() {
        return fieldPath;
    }

    /** What is wrong, without the location prefix. */
    public String detail() {
        return detail;
    }
}
