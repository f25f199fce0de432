package dev.nodekit.crishim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.exec.Executables;
import dev.nodekit.common.metrics.Metrics;

/** The files in deploy/ stay valid: the example config loads and builds its chain, the unit verifies. */
class DeployFilesTest {
    static final Path DEPLOY = Path.of(System.getProperty("user.dir")).getParent().resolve("deploy");

    @TempDir
    Path dir;

    @Test
    void theExampleConfigLoadsAndItsChainStarts() throws Exception {
        Path example = DEPLOY.resolve("cri-shim/cri-shim.example.yaml");
        // The same text with the audit log and the runtime socket moved into the temp dir.
        String text = Files.readString(example)
                .replace("/var/log/nodekit/cri-audit.jsonl", dir.resolve("audit.jsonl").toString())
                .replace("unix:///run/containerd/containerd.sock", "unix://" + dir.resolve("rt.sock"));
        CriShimConfig cfg = CriShimConfig.fromText(dir.resolve("shim.sock"), Optional.empty(), example.toString(), text,
                null, null);
        assertThat(cfg.interceptors()).extracting(InterceptorConfig::type).containsExactly("metrics", "policy", "audit");
        try (CriShim shim = CriShim.start(cfg, Metrics.create(), Clock.systemUTC(), false)) {
            assertThat(shim.plans()).filteredOn(p -> !p.passThrough()).isNotEmpty();
        }
    }

    @Test
    void theSystemdUnitVerifies() throws Exception {
        Optional<Path> analyze = Executables.which("systemd-analyze");
        Assumptions.assumeTrue(analyze.isPresent(), "systemd-analyze is not installed here");
        // verify insists that ExecStart exists: point it at this checkout's launcher.
        String unit = Files.readString(DEPLOY.resolve("systemd/nodekit-cri-shim.service"))
                .replace("/opt/nodekit/", DEPLOY.getParent() + "/");
        Path copy = dir.resolve("nodekit-cri-shim.service");
        Files.writeString(copy, unit);
        Process p = new ProcessBuilder(analyze.get().toString(), "verify", copy.toString()).redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).as(out).doesNotContain("nodekit-cri-shim.service:");
    }
}
