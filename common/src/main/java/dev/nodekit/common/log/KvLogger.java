package dev.nodekit.common.log;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.slf4j.MDC;
import org.slf4j.Marker;
import org.slf4j.event.KeyValuePair;
import org.slf4j.event.Level;
import org.slf4j.event.LoggingEvent;
import org.slf4j.helpers.AbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.spi.LoggingEventAware;

/**
 * Writes {@code ts=... level=INFO logger=Name msg="..." k=v ...}: the message, then the MDC (the
 * request id of the current call), then the fluent API's key/value pairs. Values with spaces,
 * quotes or '=' are quoted. Stack traces follow on indented lines.
 */
final class KvLogger extends AbstractLogger implements LoggingEventAware {
    private static final long serialVersionUID = 1L;
    private final transient LogConfig config;
    private final String shortName;
    private final int threshold;

    KvLogger(String name, LogConfig config) {
        this.name = name;
        this.config = config;
        int dot = name.lastIndexOf('.');
        this.shortName = dot >= 0 ? name.substring(dot + 1) : name;
        this.threshold = config.levelFor(name).toInt();
    }

    private boolean enabled(Level l) {
        return l.toInt() >= threshold;
    }

    @Override
    public boolean isTraceEnabled() {
        return enabled(Level.TRACE);
    }

    @Override
    public boolean isTraceEnabled(Marker marker) {
        return isTraceEnabled();
    }

    @Override
    public boolean isDebugEnabled() {
        return enabled(Level.DEBUG);
    }

    @Override
    public boolean isDebugEnabled(Marker marker) {
        return isDebugEnabled();
    }

    @Override
    public boolean isInfoEnabled() {
        return enabled(Level.INFO);
    }

    @Override
    public boolean isInfoEnabled(Marker marker) {
        return isInfoEnabled();
    }

    @Override
    public boolean isWarnEnabled() {
        return enabled(Level.WARN);
    }

    @Override
    public boolean isWarnEnabled(Marker marker) {
        return isWarnEnabled();
    }

    @Override
    public boolean isErrorEnabled() {
        return enabled(Level.ERROR);
    }

    @Override
    public boolean isErrorEnabled(Marker marker) {
        return isErrorEnabled();
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args,
            Throwable t) {
        write(level, pattern, args, t, List.of());
    }

    @Override
    public void log(LoggingEvent event) {
        if (!enabled(event.getLevel())) {
            return;
        }
        Object[] args = event.getArgumentArray();
        Throwable t = event.getThrowable();
        List<KeyValuePair> kv = event.getKeyValuePairs();
        write(event.getLevel(), event.getMessage(), args, t, kv == null ? List.of() : kv);
    }

    private void write(Level level, String pattern, Object[] args, Throwable t, List<KeyValuePair> kv) {
        var ft = MessageFormatter.arrayFormat(pattern, args, t);
        Throwable thrown = t != null ? t : ft.getThrowable();
        StringBuilder sb = new StringBuilder(160);
        sb.append("ts=").append(Instant.now()).append(" level=").append(level).append(" logger=").append(shortName);
        sb.append(" msg=");
        appendValue(sb, ft.getMessage() == null ? "" : ft.getMessage(), true);
        Map<String, String> mdc = MDC.getCopyOfContextMap();
        if (mdc != null) {
            for (var e : mdc.entrySet()) {
                sb.append(' ').append(e.getKey()).append('=');
                appendValue(sb, e.getValue(), false);
            }
        }
        for (KeyValuePair p : kv) {
            sb.append(' ').append(p.key).append('=');
            appendValue(sb, String.valueOf(p.value), false);
        }
        if (thrown != null) {
            sb.append(" error=");
            appendValue(sb, thrown.toString(), false);
            if (enabled(Level.DEBUG) || level == Level.ERROR) {
                StringWriter sw = new StringWriter();
                thrown.printStackTrace(new PrintWriter(sw));
                sb.append('\n').append(sw.toString().stripTrailing().replace("\n", "\n    "));
            }
        }
        config.out().println(sb);
    }

    static void appendValue(StringBuilder sb, String v, boolean alwaysQuote) {
        boolean quote = alwaysQuote || v.isEmpty();
        if (!quote) {
            for (int i = 0; i < v.length(); i++) {
                char c = v.charAt(i);
                if (c <= ' ' || c == '"' || c == '=' || c == '\\') {
                    quote = true;
                    break;
                }
            }
        }
        if (!quote) {
            sb.append(v);
            return;
        }
        sb.append('"');
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> sb.append(c);
            }
        }
        sb.append('"');
    }
}
