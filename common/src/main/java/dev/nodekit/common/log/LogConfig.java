package dev.nodekit.common.log;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.slf4j.event.Level;

/**
 * Where log lines go and from which level, read once from the environment: {@code NODEKIT_LOG_LEVEL}
 * (default INFO) and {@code NODEKIT_LOG_LEVELS}, a comma-separated list of {@code logger.prefix=LEVEL}
 * overrides (longest prefix wins). Netty's bootstrap is quieted by default: it warns about
 * SO_KEEPALIVE on every unix-socket channel, which is harmless. Chatty libraries ({@link #CHATTY})
 * stay at INFO when the level is DEBUG (TRACE shows them): OSHI alone logs a DEBUG line for every
 * /proc and /sys file it reads, hundreds per node-facts collection, burying nodekit's own lines.
 */
record LogConfig(Level level, Map<String, Level> overrides, PrintStream out) {
    static final Map<String, Level> DEFAULT_OVERRIDES = Map.of("io.grpc.netty.shaded.io.netty.bootstrap", Level.ERROR);
    static final List<String> CHATTY = List.of("oshi.");

    LogConfig {
        overrides = Map.copyOf(overrides);
    }

    /** A config with only a level (tests). */
    LogConfig(Level level, PrintStream out) {
        this(level, Map.of(), out);
    }

    /** The level for logger {@code name}: the longest matching override, else the default level. */
    Level levelFor(String name) {
        Level best = level == Level.DEBUG && CHATTY.stream().anyMatch(name::startsWith) ? Level.INFO : level;
        int bestLen = -1;
        for (var e : overrides.entrySet()) {
            String prefix = e.getKey();
            if ((name.equals(prefix) || name.startsWith(prefix + ".")) && prefix.length() > bestLen) {
                best = e.getValue();
                bestLen = prefix.length();
            }
        }
        return best;
    }

    static LogConfig fromEnvironment() {
        String lvl = firstNonBlank(System.getProperty("nodekit.log.level"), System.getenv("NODEKIT_LOG_LEVEL"), "INFO");
        Level level = parse(lvl, Level.INFO);
        Map<String, Level> overrides = new HashMap<>(DEFAULT_OVERRIDES);
        String spec = firstNonBlank(System.getProperty("nodekit.log.levels"), System.getenv("NODEKIT_LOG_LEVELS"), "");
        for (String item : spec.split(",")) {
            int eq = item.indexOf('=');
            if (eq > 0) {
                overrides.put(item.substring(0, eq).trim(), parse(item.substring(eq + 1), level));
            }
        }
        PrintStream out = System.err;
        String file = firstNonBlank(System.getProperty("nodekit.log.file"), System.getenv("NODEKIT_LOG_FILE"), null);
        if (file != null) {
            try {
                OutputStream os = new FileOutputStream(file, true);
                out = new PrintStream(os, true, StandardCharsets.UTF_8);
            } catch (IOException e) {
                System.err.println("level=WARN msg=\"cannot open log file, logging to stderr\" file=" + file);
            }
        }
        return new LogConfig(level, overrides, out);
    }

    private static Level parse(String s, Level dflt) {
        try {
            return Level.valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return dflt;
        }
    }

    private static String firstNonBlank(String a, String b, String dflt) {
        if (a != null && !a.isBlank()) {
            return a;
        }
        if (b != null && !b.isBlank()) {
            return b;
        }
        return dflt;
    }
}
