package dev.nodekit.common.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.event.Level;

class KvLoggerFactoryTest {
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);

    @Test
    void chattyLibrariesStayAtInfoWhenDebugIsOn() {
        KvLoggerFactory f = new KvLoggerFactory(new LogConfig(Level.DEBUG, out));
        Logger oshi = f.getLogger("oshi.util.FileUtil");
        Logger ours = f.getLogger("dev.nodekit.common.exec.ProcessCommandRunner");
        oshi.debug("Reading file /proc/stat");
        oshi.info("oshi info");
        ours.debug("command finished");
        String text = buf.toString(StandardCharsets.UTF_8);
        assertThat(oshi.isDebugEnabled()).isFalse();
        assertThat(ours.isDebugEnabled()).isTrue();
        assertThat(text).doesNotContain("Reading file").contains("oshi info", "command finished");
    }

    @Test
    void traceShowsEverything() {
        KvLoggerFactory f = new KvLoggerFactory(new LogConfig(Level.TRACE, out));
        assertThat(f.getLogger("oshi.util.FileUtil").isDebugEnabled()).isTrue();
    }

    @Test
    void atInfoNothingChanges() {
        KvLoggerFactory f = new KvLoggerFactory(new LogConfig(Level.WARN, out));
        assertThat(f.getLogger("oshi.util.FileUtil").isInfoEnabled()).isFalse();
        assertThat(f.getLogger("oshi.util.FileUtil").isWarnEnabled()).isTrue();
    }
}
