package dev.nodekit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.conformance.cri.CriChecks;
import dev.nodekit.conformance.cri.FakeCriOnUds;

/** {@code nodekit conformance cri} against a fake runtime on a real unix socket, streaming over real WebSocket. */
class ConformanceCriTest {
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

    private FakeCriOnUds serve() throws Exception {
        Files.createDirectories(dir.resolve("work"));
        return FakeCriOnUds.start(dir.resolve("cri.sock"), dir.resolve("work"));
    }

    @Test
    @SuppressWarnings("try") // the fake only has to be up while the command runs
    void runsTheWholeSuiteAndWritesJUnitXml() throws Exception {
        try (FakeCriOnUds fake = serve()) {
            Path xml = dir.resolve("junit.xml");
            Files.createDirectories(dir.resolve("logs"));
            Run r = nodekit("conformance", "cri", "--endpoint", "unix://" + dir.resolve("cri.sock"), "--log-root",
                    dir.resolve("logs").toString(), "--junit", xml.toString(), "--strict=false");
            assertThat(r.out()).contains("PASS   cri.stream.exec").contains("PASS   cri.container.log")
                    .contains("SKIP   cri.image.pull").contains(CriChecks.PULL_SKIP);
            String last = r.out().strip().lines().reduce((a, b) -> b).orElseThrow();
            assertThat(last).isEqualTo("24 passed, 0 failed, 1 skipped");
            assertThat(r.exit()).isZero();
            assertThat(Files.readString(xml)).contains("name=\"cri.stream.port-forward\"");
            try (var left = Files.list(dir.resolve("logs"))) {
                assertThat(left).as("pod log dirs are removed").isEmpty();
            }
        }
    }

    @Test
    void exitsNonZeroWhenTheRuntimeBreaksARule() throws Exception {
        try (FakeCriOnUds fake = serve()) {
            fake.breakVersion();
            Run r = nodekit("conformance", "cri", "--endpoint", "unix://" + dir.resolve("cri.sock"), "--only",
                    "cri\\.runtime\\.");
            assertThat(r.out()).contains("FAIL   cri.runtime.version").contains("runtime_name");
            assertThat(r.out()).contains("2 passed, 1 failed, 0 skipped");
            assertThat(r.exit()).isEqualTo(1);
        }
    }

    @Test
    void listsChecksAndRejectsBadFlags() {
        Run list = nodekit("conformance", "cri", "--endpoint", "unix:///nowhere.sock", "--list");
        assertThat(list.exit()).isZero();
        assertThat(list.out()).contains("cri.stream.port-forward").contains("CRI v1 PortForward");
        Run bad = nodekit("conformance", "cri", "--endpoint", "unix:///x.sock", "--cgroup-parent", "../etc");
        assertThat(bad.exit()).isNotZero();
    }
}
