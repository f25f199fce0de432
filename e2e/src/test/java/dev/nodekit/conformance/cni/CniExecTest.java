package dev.nodekit.conformance.cni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.awaitility.Awaitility;

/** Plugins run with a runtime's clean environment, stdin in, stdout/stderr/exit out, killed (with children) at the bound. */
class CniExecTest {
    @TempDir
    Path bin;

    private String script(String name, String body) throws IOException {
        Path f = bin.resolve(name);
        Files.writeString(f, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        return name;
    }

    @Test
    void onlyPathAndCniVariablesReachThePlugin() throws Exception {
        CniExec exec = new CniExec(bin, Duration.ofSeconds(10));
        ExecResult r = exec.invoke(script("env", "env | sort"), CniEnv.attachment("ADD", "c1", "/var/run/netns/x",
                "eth0", bin.toString()).with(CniEnv.ARGS, "IgnoreUnknown=1"), "");
        assertThat(r.succeeded()).isTrue();
        assertThat(r.stdout().lines().map(l -> l.substring(0, l.indexOf('='))).filter(k -> !k.equals("PWD")
                && !k.equals("SHLVL") && !k.equals("_"))).containsExactly("CNI_ARGS", "CNI_COMMAND", "CNI_CONTAINERID",
                "CNI_IFNAME", "CNI_NETNS", "CNI_PATH", "PATH");
        assertThat(r.stdout()).contains("PATH=" + CniExec.PATH).contains("CNI_NETNS=/var/run/netns/x");
    }

    @Test
    void stdinInStdoutStderrAndExitCodeOut() throws Exception {
        CniExec exec = new CniExec(bin, Duration.ofSeconds(10));
        ExecResult r = exec.invoke(script("echo", "cat; echo oops >&2; exit 7"), CniEnv.of("ADD"), "{\"a\":1}");
        assertThat(r.exitCode()).isEqualTo(7);
        assertThat(r.stdout()).isEqualTo("{\"a\":1}");
        assertThat(r.stderr()).isEqualTo("oops\n");
        assertThat(r.timedOut()).isFalse();
        assertThat(r.summary()).isEqualTo("exit 7, stdout: {\"a\":1}, stderr: oops");
    }

    @Test
    void aPluginThatIgnoresStdinIsFine() throws Exception {
        CniExec exec = new CniExec(bin, Duration.ofSeconds(10));
        ExecResult r = exec.invoke(script("quick", "echo '{}'"), CniEnv.of("VERSION"), "x".repeat(1 << 20));
        assertThat(r.succeeded()).isTrue();
        assertThat(r.stdout()).isEqualTo("{}\n");
    }

    @Test
    void aHungPluginIsKilledWithItsChildren() throws Exception {
        Path pidFile = bin.resolve("child.pid");
        CniExec exec = new CniExec(bin, Duration.ofMillis(500));
        long start = System.nanoTime();
        ExecResult r = exec.invoke(script("hang", "sleep 60 & echo $! > " + pidFile + "; echo started; wait"),
                CniEnv.of("ADD"), "");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(r.timedOut()).isTrue();
        assertThat(r.succeeded()).isFalse();
        assertThat(r.stdout()).isEqualTo("started\n");
        assertThat(r.summary()).startsWith("killed after");
        long child = Long.parseLong(Files.readString(pidFile).strip());
        Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> ProcessHandle.of(child)
                .map(p -> !p.isAlive()).orElse(true));
    }

    @Test
    void pluginNamesAreFileNames() throws Exception {
        CniExec exec = new CniExec(bin, Duration.ofSeconds(1));
        assertThatThrownBy(() -> exec.invoke("../bin/sh", CniEnv.of("VERSION"), ""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be a file name");
        assertThatThrownBy(() -> exec.invoke("missing", CniEnv.of("VERSION"), ""))
                .isInstanceOf(IOException.class).hasMessageContaining("does not exist or is not executable");
        assertThatThrownBy(() -> CniEnv.of("ADD").with("HOME", "/root")).hasMessageContaining("not a CNI_* variable");
        assertThat(CniEnv.of("ADD").with(CniEnv.NETNS, "x").without(CniEnv.NETNS).vars()).containsOnlyKeys("CNI_COMMAND");
    }
}
