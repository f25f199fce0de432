package dev.nodekit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;

/** {@code nodekit conformance cni}: option rules, --list, and the root-free checks run against the Go plugins. */
class ConformanceCniTest {
    static final String GO = "/usr/lib/cni";
    static final String ROOT_FREE = "version\\.supported|error\\.missing-env";

    @TempDir
    Path dir;

    record Run(int exit, String out, String err) { }

    private Run nodekit(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = NodekitMain.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void listsEveryVersionsChecksWithoutRunningAnything() {
        Run r = nodekit("conformance", "cni", "--bin-dir", "/nowhere", "--plugin", "bridge", "--ipam", "host-local",
                "--list");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("cni.v030.add.result-shape").contains("cni.v100.error.missing-env")
                .contains("cni.v110.gc.valid-attachments").contains("CNI 1.0.0 ADD; Result");
        Run only110 = nodekit("conformance", "cni", "--bin-dir", "/nowhere", "--conf", "/nowhere.conf", "--versions",
                "1.1.0", "--list");
        assertThat(only110.out()).contains("cni.v110.status.ready").doesNotContain("cni.v100.");
    }

    @Test
    void optionRules() {
        Run noIpam = nodekit("conformance", "cni", "--bin-dir", GO, "--plugin", "bridge");
        assertThat(noIpam.exit()).isEqualTo(2);
        assertThat(noIpam.err()).contains("give --plugin NAME and --ipam NAME");
        Run both = nodekit("conformance", "cni", "--bin-dir", GO, "--plugin", "bridge", "--ipam", "host-local",
                "--conf", "x.conflist");
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("either --conf FILE or --plugin");
        Run badVersion = nodekit("conformance", "cni", "--bin-dir", GO, "--plugin", "bridge", "--ipam", "host-local",
                "--versions", "0.2.0");
        assertThat(badVersion.exit()).isEqualTo(2);
        assertThat(badVersion.err()).contains("'0.2.0' is not one of");
        Run badName = nodekit("conformance", "cni", "--bin-dir", GO, "--plugin", "../bridge", "--ipam", "host-local");
        assertThat(badName.exit()).isEqualTo(2);
        assertThat(badName.err()).contains("must be a file name");
        Run noDir = nodekit("conformance", "cni", "--bin-dir", dir.resolve("missing").toString(), "--plugin", "bridge",
                "--ipam", "host-local");
        assertThat(noDir.exit()).isEqualTo(1);
        assertThat(noDir.err()).contains("is not a directory");
        Run noIpamBinary = nodekit("conformance", "cni", "--bin-dir", dir.toString(), "--plugin", "bridge", "--ipam",
                "host-local");
        assertThat(noIpamBinary.exit()).isEqualTo(1);
        assertThat(noIpamBinary.err()).contains(dir.resolve("bridge") + " does not exist or is not executable");
    }

    @Test
    @Requires(Requirement.CNI_REFERENCE_PLUGINS)
    void runsAgainstTheGoPluginsWithTableXmlAndExitCode() throws Exception {
        Path xml = dir.resolve("cni.xml");
        Run r = nodekit("conformance", "cni", "--bin-dir", GO, "--plugin", "bridge", "--ipam", "host-local",
                "--only", ROOT_FREE, "--junit", xml.toString(), "--strict=false");
        assertThat(r.out()).contains("PASS   cni.v100.version.supported").contains("PASS   cni.v030.error.missing-env")
                .contains("SKIP   cni.v110.version.supported").contains("plugin does not claim 1.1.0");
        String last = r.out().strip().lines().reduce((a, b) -> b).orElseThrow();
        assertThat(last).isEqualTo("8 passed, 0 failed, 2 skipped");
        assertThat(r.exit()).isZero();
        assertThat(Files.readString(xml)).contains("name=\"cni.v040.version.supported\"");
    }

    @Test
    @Requires(Requirement.CNI_REFERENCE_PLUGINS)
    void confFileAndExplicitVersions() throws Exception {
        Path conf = Files.writeString(dir.resolve("10-test.conflist"), """
                {"cniVersion":"1.0.0","name":"nk-cli-test","plugins":[{"type":"bridge","bridge":"cni0",
                 "ipam":{"type":"host-local","ranges":[[{"subnet":"10.213.0.0/24"}]]}}]}""");
        Run r = nodekit("conformance", "cni", "--bin-dir", GO, "--conf", conf.toString(), "--versions", "0.4.0,1.0.0",
                "--only", ROOT_FREE);
        assertThat(r.out()).contains("PASS   cni.v040.version.supported").doesNotContain("cni.v030.")
                .doesNotContain("cni.v110.");
        assertThat(r.out().strip()).endsWith("4 passed, 0 failed, 0 skipped");
        assertThat(r.exit()).isZero();
    }

    @Test
    void failingPluginExitsOne() throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path f = bin.resolve("broken");
        Files.writeString(f, "#!/bin/sh\ncat >/dev/null\necho 'not json'\nexit 0\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        Run r = nodekit("conformance", "cni", "--bin-dir", bin.toString(), "--plugin", "broken", "--ipam", "broken",
                "--only", "v100\\.version");
        assertThat(r.out()).contains("FAIL   cni.v100.version.supported").contains("VERSION answer unusable");
        assertThat(r.out().strip()).endsWith("0 passed, 1 failed, 0 skipped");
        assertThat(r.exit()).isEqualTo(1);
    }
}
