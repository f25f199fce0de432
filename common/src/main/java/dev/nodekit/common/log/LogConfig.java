package dev.nodekit.common.log;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import org.slf4j.event.Level;

/** Where log lines go and from which level, read once from the environment. */
record LogConfig(Level level, PrintStream out) {

    static LogConfig fromEnvironment() {
        String lvl = firstNonBlank(System.getProperty("nodekit.log.level"), System.getenv("NODEKIT_LOG_LEVEL"), "INFO");
        Level level;
        try {
            level = Level.valueOf(lvl.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            level = Level.INFO;
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
        return new LogConfig(level, out);
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
