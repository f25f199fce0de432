package dev.nodekit.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;

class CsiCommandTest {
    static CsiConfig parse(String... args) {
        CsiCommand c = new CsiCommand();
        new CommandLine(c).parseArgs(args);
        return c.config();
    }

    static String error(String... args) {
        CommandLine cl = new CommandLine(new CsiCommand()) {
        };
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        cl.setExecutionStrategy(pr -> ((CsiCommand) pr.commandSpec().userObject()).config() == null ? 1 : 0);
        int code = cl.execute(args);
        assertThat(code).as("exit code for bad flags").isEqualTo(2);
        return err.toString();
    }

    @Test
    void flagsBecomeOneValidatedConfigWithDefaults() {
        CsiConfig c = parse("--endpoint", "unix:///var/lib/kubelet/plugins/local.csi.nodekit.dev/csi.sock",
                "--node-id", "worker-1", "--data-dir", "/var/lib/nodekit/csi");
        assertThat(c.socket()).isEqualTo(Path.of("/var/lib/kubelet/plugins/local.csi.nodekit.dev/csi.sock"));
        assertThat(c.backend()).isEqualTo("local");
        assertThat(c.mode()).isEqualTo(CsiConfig.Mode.ALL);
        assertThat(c.driverName()).isEqualTo("local.csi.nodekit.dev");
        assertThat(c.topologyKey()).isEqualTo("topology.local.csi.nodekit.dev/node");
        assertThat(c.maxVolumesPerNode()).isZero();
        assertThat(c.metricsAddress()).isEmpty();
        assertThat(c.maxHeavyOperations()).isGreaterThanOrEqualTo(2);

        CsiConfig d = parse("--endpoint", "unix:/run/csi.sock", "--node-id", "n", "--data-dir", "/d", "--mode", "node",
                "--driver-name", "other.example.com", "--topology-key", "example.com/zone", "--max-volumes-per-node",
                "12", "--metrics-address", ":9809", "--max-heavy-operations", "3", "--backend", "rbd");
        assertThat(d).isEqualTo(new CsiConfig(Path.of("/run/csi.sock"), "n", "rbd", Path.of("/d"), CsiConfig.Mode.NODE,
                "other.example.com", 12, "example.com/zone", Optional.of(":9809"), 3));
    }

    @Test
    void badFlagsAreNamedInTheMessageAndExitTwo() {
        assertThat(error("--endpoint", "tcp://1.2.3.4:10000", "--node-id", "n", "--data-dir", "/d"))
                .contains("--endpoint").contains("unix");
        assertThat(error("--endpoint", "unix:///s.sock", "--node-id", "Not Valid", "--data-dir", "/d"))
                .contains("--node-id");
        assertThat(error("--endpoint", "unix:///s.sock", "--node-id", "n", "--data-dir", "/d", "--mode", "both"))
                .contains("--mode");
        assertThat(error("--endpoint", "unix:///s.sock", "--node-id", "n", "--data-dir", "/d", "--driver-name", "-x-"))
                .contains("--driver-name");
        assertThat(error("--endpoint", "unix:///s.sock", "--node-id", "n", "--data-dir", "/d", "--metrics-address",
                "nope")).contains("--metrics-address");
        assertThat(error("--endpoint", "unix:///s.sock", "--node-id", "n", "--data-dir", "/d", "--topology-key",
                "UPPER.case/x")).contains("--topology-key");
        assertThat(error("--endpoint", "unix:///" + "x".repeat(120) + ".sock", "--node-id", "n", "--data-dir", "/d"))
                .contains("107");
        assertThat(error("--node-id", "n", "--data-dir", "/d")).contains("--endpoint");
    }

    @Test
    void configRecordRefusesWhatCannotRun() {
        assertThatIllegalArgumentException().isThrownBy(() -> new CsiConfig(Path.of("rel.sock"), "n", "local",
                Path.of("/d"), CsiConfig.Mode.ALL, "d.example", 0, "k", Optional.empty(), 2)).withMessageContaining("absolute");
        assertThatIllegalArgumentException().isThrownBy(() -> new CsiConfig(Path.of("/s.sock"), "n", "local",
                Path.of("/d"), CsiConfig.Mode.ALL, "d.example", -1, "k", Optional.empty(), 2))
                .withMessageContaining("--max-volumes-per-node");
        assertThatIllegalArgumentException().isThrownBy(() -> new CsiConfig(Path.of("/s.sock"), "n", "local",
                Path.of("/d"), CsiConfig.Mode.ALL, "d.example", 0, "k", Optional.empty(), 0))
                .withMessageContaining("--max-heavy-operations");
    }

    @Test
    void anUnknownBackendIsNamedWithTheKnownOnes() {
        BackendRegistry r = BackendRegistry.of(java.util.Map.of("fake", ctx -> null));
        assertThatIllegalArgumentException().isThrownBy(() -> r.open("rbd", new BackendRegistry.Context(Path.of("/d"),
                "n", new dev.nodekit.common.testing.RecordingCommandRunner(), java.time.Clock.systemUTC(),
                dev.nodekit.common.metrics.Metrics.create()))).withMessageContaining("rbd").withMessageContaining("fake");
    }
}
