package dev.nodekit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.csi.CsiIdentityService;
import dev.nodekit.spec.csi.v1.PluginCapability;
import dev.nodekit.common.grpc.UdsServer;

/** {@code nodekit conformance csi} against a running server over its unix socket: table, closing line, XML, exit code. */
class ConformanceCommandTest {
    @TempDir
    Path dir;

    record Run(int exit, String out) { }

    private Run nodekit(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            int code = NodekitMain.run(args);
            return new Run(code, buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(old);
        }
    }

    private UdsServer serve(String name, List<PluginCapability> caps) throws Exception {
        return dev.nodekit.conformance.csi.TestUdsAccess.serve(dir.resolve("csi.sock"),
                new CsiIdentityService(name, "0.1.0", caps, CsiIdentityService.Health.Ready::new));
    }

    @Test
    void runsIdentitySuiteAndPrintsTableAndClosingLine() throws Exception {
        UdsServer s = serve("local.csi.nodekit.dev", List.of());
        try {
            Path xml = dir.resolve("junit.xml");
            Run r = nodekit("conformance", "csi", "--endpoint", "unix://" + dir.resolve("csi.sock"), "--only",
                    "csi\\.identity\\.", "--junit", xml.toString(), "--strict=false");
            assertThat(r.out()).contains("RESULT").contains("PASS   csi.identity.plugin-info-name")
                    .contains("SKIP   csi.identity.controller-service-consistent");
            String last = r.out().strip().lines().reduce((a, b) -> b).orElseThrow();
            assertThat(last).matches("\\d+ passed, 0 failed, \\d+ skipped");
            assertThat(r.exit()).isZero();
            assertThat(Files.readString(xml)).contains("name=\"csi.identity.probe\"");
        } finally {
            s.close();
        }
    }

    @Test
    void exitsNonZeroWhenAPluginBreaksARule() throws Exception {
        // Advertises CONTROLLER_SERVICE but serves no controller: UNIMPLEMENTED.
        UdsServer s = serve("local.csi.nodekit.dev", List.of(PluginCapability.newBuilder().setService(
                PluginCapability.Service.newBuilder().setType(PluginCapability.Service.Type.CONTROLLER_SERVICE)).build()));
        try {
            Run r = nodekit("conformance", "csi", "--endpoint", "unix://" + dir.resolve("csi.sock"), "--only",
                    "csi\\.identity\\.");
            assertThat(r.out()).contains("FAIL   csi.identity.controller-service-consistent");
            assertThat(r.out()).containsPattern("\\d+ passed, 1 failed, \\d+ skipped");
            assertThat(r.exit()).isEqualTo(1);
        } finally {
            s.close();
        }
    }

    @Test
    void listsChecks() {
        Run r = nodekit("conformance", "csi", "--endpoint", "unix:///nowhere.sock", "--list");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("csi.identity.plugin-info-name").contains("CSI 1.12 GetPluginInfo");
    }

    @Test
    void versionAndHelp() {
        assertThat(nodekit("version").out()).startsWith("nodekit ");
        Run help = nodekit("--help");
        assertThat(help.out()).contains("conformance").contains("bench").contains("version");
    }
}
