package dev.nodekit.cni.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.cni.launch.LeanCommandRunner;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.NetConf;
import dev.nodekit.spec.cni.Result;

/** Delegation by exec, against shell-script delegates in a temp CNI_PATH (no root needed). */
class ExecPluginTest {
    @TempDir
    Path dir;
    final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    Path script(String name, String body) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path p = bin.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    CniRequest request(CniCommand cmd, String conf) throws Exception {
        return new CniRequest(cmd, Optional.of("c1"), Optional.of(Path.of("/run/netns/x")), Optional.of("eth0"),
                CniArgs.EMPTY, List.of(dir.resolve("nothing-here"), dir.resolve("bin")), NetConf.parse(conf),
                conf.getBytes(StandardCharsets.UTF_8),
                Map.of("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "c1", "CNI_IFNAME", "eth0", "CNI_EXTRA", "kept"));
    }

    ExecPlugin plugin(String type, Duration timeout) {
        return new ExecPlugin(type, new LeanCommandRunner(), stderr, timeout);
    }

    static final String CONF = "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"bridge\",\"ipam\":{\"type\":\"ipam1\"}}";

    @Test
    void passesEnvironmentAndStdinAndReadsTheResult() throws Exception {
        Path seen = dir.resolve("seen");
        script("ipam1", "cat > " + seen + ".stdin\necho \"$CNI_COMMAND $CNI_CONTAINERID $CNI_IFNAME $CNI_EXTRA\" > "
                + seen + "\necho 'delegate says hi' >&2\n"
                + "echo '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.1.0.5/24\",\"gateway\":\"10.1.0.1\"}]}'");
        Result r = plugin("ipam1", Duration.ofSeconds(30)).add(request(CniCommand.ADD, CONF));
        assertThat(r.ips().get(0).address()).isEqualTo("10.1.0.5/24");
        assertThat(Files.readString(seen).strip()).isEqualTo("ADD c1 eth0 kept");
        assertThat(Files.readString(dir.resolve("seen.stdin"))).isEqualTo(CONF);
        assertThat(stderr.toString(StandardCharsets.UTF_8)).contains("delegate says hi");

        plugin("ipam1", Duration.ofSeconds(30)).del(request(CniCommand.ADD, CONF));
        assertThat(Files.readString(seen)).startsWith("DEL ");
    }

    @Test
    void rethrowsTheDelegatesErrorWithItsCode() throws Exception {
        script("ipam1", "echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"busy\",\"details\":\"d\"}'; exit 1");
        assertThatThrownBy(() -> plugin("ipam1", Duration.ofSeconds(30)).add(request(CniCommand.ADD, CONF)))
                .isInstanceOfSatisfying(CniException.class, e -> {
                    assertThat(e.code()).isEqualTo(11);
                    assertThat(e.getMessage()).isEqualTo("busy");
                    assertThat(e.details()).hasValue("d");
                });
    }

    @Test
    void failureWithoutAnErrorObject() throws Exception {
        script("ipam1", "echo 'panic: something' >&2; exit 2");
        assertThatThrownBy(() -> plugin("ipam1", Duration.ofSeconds(30)).del(request(CniCommand.DEL, CONF)))
                .isInstanceOfSatisfying(CniException.class, e -> {
                    assertThat(e.code()).isEqualTo(CniError.INTERNAL);
                    assertThat(e.details()).hasValue("panic: something");
                });
        script("ipam2", "exit 3");
        assertThatThrownBy(() -> plugin("ipam2", Duration.ofSeconds(30)).del(request(CniCommand.DEL, CONF)))
                .hasMessage("netplugin failed with no error message");
    }

    @Test
    void aHungDelegateIsKilledAndReportedAsTryAgainLater() throws Exception {
        script("ipam1", "sleep 30");
        long start = System.nanoTime();
        assertThatThrownBy(() -> plugin("ipam1", Duration.ofMillis(500)).add(request(CniCommand.ADD, CONF)))
                .isInstanceOfSatisfying(CniException.class, e -> assertThat(e.code()).isEqualTo(CniError.TRY_AGAIN_LATER));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void aMissingDelegateIsNamed() throws Exception {
        assertThatThrownBy(() -> plugin("nope", Duration.ofSeconds(30)).add(request(CniCommand.ADD, CONF)))
                .hasMessageContaining("failed to find plugin \"nope\" in path");
    }

    @Test
    void delegatesPreferInProcessPlugins() throws Exception {
        CniDispatcherTest.FakePlugin fake = new CniDispatcherTest.FakePlugin();
        Delegates d = new Delegates(new Delegates.InProcess() {
            @Override
            public CniPlugin lookup(String type) {
                return "mine".equals(type) ? fake : null;
            }
        }, new LeanCommandRunner(), stderr, Duration.ofSeconds(5));
        assertThat(d.forType("mine")).isSameAs(fake);
        assertThat(d.forType("other")).isInstanceOf(ExecPlugin.class);
    }
}
