package dev.nodekit.crishim;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;
import picocli.CommandLine.Option;

class CriShimCommandTest {
    /** Option name to field, from the annotations picocli reads. */
    private static Map<String, Field> annotatedOptions() {
        Map<String, Field> m = new HashMap<>();
        for (Field f : CriShimCommand.class.getDeclaredFields()) {
            Option o = f.getAnnotation(Option.class);
            if (o != null) {
                Arrays.stream(o.names()).forEach(n -> m.put(n, f));
            }
        }
        return m;
    }

    private static Map<String, Object> values(CriShimCommand c) throws IllegalAccessException {
        Map<String, Object> m = new HashMap<>();
        for (Map.Entry<String, Field> e : annotatedOptions().entrySet()) {
            m.put(e.getKey(), e.getValue().get(c));
        }
        return m;
    }

    private static CriShimCommand picocli(String... args) {
        CriShimCommand c = new CriShimCommand();
        new CommandLine(c).parseArgs(args);
        return c;
    }

    @Test
    void theSimpleParserKnowsExactlyTheAnnotatedOptions() {
        assertThat(CriShimCommand.SIMPLE_OPTIONS.keySet()).isEqualTo(annotatedOptions().keySet());
    }

    @Test
    void aUsualCommandLineParsesAsPicocliParsesIt() throws Exception {
        String[][] lines = {
            {"--listen", "unix:///run/nodekit/cri.sock", "--upstream", "unix:///run/containerd/containerd.sock"},
            {"--listen=unix:///a.sock", "--config", "/etc/nodekit/cri-shim.yaml", "--metrics-address=127.0.0.1:9808",
                "--socket-mode", "0600", "--shutdown-grace", "5s"},
            {"--upstream", "unix:///b.sock", "--listen", "unix:///a.sock", "--shutdown-grace=0s"},
        };
        for (String[] args : lines) {
            Optional<CriShimCommand> simple = CriShimCommand.parseSimple(args);
            assertThat(simple).as(String.join(" ", args)).isPresent();
            assertThat(values(simple.get())).as(String.join(" ", args)).isEqualTo(values(picocli(args)));
        }
        // every option is set by its own setter, into its own field
        for (String name : CriShimCommand.SIMPLE_OPTIONS.keySet()) {
            String[] args = name.equals("--listen") ? new String[] {"--listen", "/x"}
                    : new String[] {"--listen", "/x", name, "/v"};
            assertThat(values(CriShimCommand.parseSimple(args).orElseThrow())).as(name).isEqualTo(values(picocli(args)));
        }
    }

    @Test
    void anythingUnusualIsLeftToPicocli() {
        assertThat(CriShimCommand.parseSimple()).isEmpty();
        assertThat(CriShimCommand.parseSimple("--upstream", "unix:///b.sock")).isEmpty(); // --listen is required
        assertThat(CriShimCommand.parseSimple("--help")).isEmpty();
        assertThat(CriShimCommand.parseSimple("--listen", "/a", "-V")).isEmpty();
        assertThat(CriShimCommand.parseSimple("--listen", "/a", "--bogus", "x")).isEmpty();
        assertThat(CriShimCommand.parseSimple("--listen", "/a", "--listen", "/b")).isEmpty();
        assertThat(CriShimCommand.parseSimple("--listen")).isEmpty();
        assertThat(CriShimCommand.parseSimple("--listen", "/a", "--upstream")).isEmpty();
        assertThat(CriShimCommand.parseSimple("--listen", "/a", "--upstream", "--config", "/c")).isEmpty();
        assertThat(CriShimCommand.parseSimple("--listen", "/a", "stray")).isEmpty();
        assertThat(CriShimCommand.parseSimple("--listen", "/a", "--config", "bad\0path")).isEmpty();
    }
}
