package dev.nodekit.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.nodekit.cli.NodekitMain;
import picocli.CommandLine;

/** The demo's refusals and its place in the command line; the demo itself runs in {@code DemoIT}. */
class DemoCommandTest {
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();
    final AtomicInteger probes = new AtomicInteger();

    int run(DemoCommand.Host host, String... args) {
        CommandLine cl = new CommandLine(new DemoCommand(host));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void notRootExitsTwoWithOneSentenceAndTouchesNothing() {
        DemoCommand.Host host = new DemoCommand.Host(() -> Optional.of("not running as root (euid != 0)"), () -> {
            probes.incrementAndGet();
            return Optional.empty();
        }, () -> {
            probes.incrementAndGet();
            return Optional.empty();
        });

        assertThat(run(host)).isEqualTo(2);

        assertThat(out.toString()).isEmpty();
        String message = err.toString().strip();
        assertThat(message).startsWith("nodekit demo needs root").endsWith(".").doesNotContain("\n");
        assertThat(message.chars().filter(c -> c == '.').count()).as("one sentence").isEqualTo(1);
        assertThat(probes).as("nothing else probed or started").hasValue(0);
    }

    @Test
    void aHostWithoutLoopDevicesExitsTwoNamingWhatIsMissing() {
        DemoCommand.Host host = new DemoCommand.Host(Optional::empty,
                () -> Optional.of("loop: /dev/loop-control is missing"), Optional::empty);

        assertThat(run(host)).isEqualTo(2);

        assertThat(out.toString()).isEmpty();
        assertThat(err.toString().strip()).isEqualTo(
                "nodekit demo cannot run on this machine: loop: /dev/loop-control is missing.");
    }

    @Test
    void isANodekitSubcommandWithHelp() {
        assertThat(NodekitMain.run("demo", "--help")).isZero();
    }

    @Test
    void logsAreQuietOnlyForTheDemoAndOnlyWhenNotAskedOtherwise() {
        String before = System.getProperty("nodekit.log.level");
        try {
            System.clearProperty("nodekit.log.level");
            DemoCommand.quietLogsFor("csi", "--help");
            assertThat(System.getProperty("nodekit.log.level")).isNull();
            DemoCommand.quietLogsFor("demo");
            assertThat(System.getProperty("nodekit.log.level"))
                    .isEqualTo(System.getenv("NODEKIT_LOG_LEVEL") == null ? "WARN" : null);
            System.setProperty("nodekit.log.level", "DEBUG");
            DemoCommand.quietLogsFor("demo");
            assertThat(System.getProperty("nodekit.log.level")).isEqualTo("DEBUG");
        } finally {
            if (before == null) {
                System.clearProperty("nodekit.log.level");
            } else {
                System.setProperty("nodekit.log.level", before);
            }
        }
    }

    @Test
    void pingReplyTimeIsShownShort() {
        assertThat(NodeDemo.rtt("PING 10.1.2.3 (10.1.2.3) 56(84) bytes of data.\n"
                + "64 bytes from 10.1.2.3: icmp_seq=1 ttl=64 time=0.359 ms\n")).isEqualTo("reply time=0.359 ms");
        assertThat(NodeDemo.rtt("something else")).isEqualTo("reply");
    }
}
