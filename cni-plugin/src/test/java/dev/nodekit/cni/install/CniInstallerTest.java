package dev.nodekit.cni.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.cni.launch.LeanCommandRunner;
import dev.nodekit.cni.launch.PluginMain;
import dev.nodekit.spec.cni.NetConfList;
import dev.nodekit.spec.cni.Result;
import dev.nodekit.spec.cni.VersionInfo;

/** Installs into temp dirs with the JVM running the tests and runs the launchers it wrote (no root). */
class CniInstallerTest {
    @TempDir
    Path dir;

    Path java() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }

    InstallSpec spec(List<String> subnets, boolean force, boolean archive) {
        return new InstallSpec(dir.resolve("bin"), dir.resolve("conf"), dir.resolve("lib"), java(), subnets, "nodekit",
                "cni0", force, archive, true, "warn", Optional.empty());
    }

    CniInstaller installer() {
        return new CniInstaller(new LeanCommandRunner(), Duration.ofMinutes(3));
    }

    static String run(Path exe, Map<String, String> env, String stdin) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(exe.toString());
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s: %s %s", exe, out, err).isZero();
        return out;
    }

    @Test
    void installsLaunchersArchiveAndConflistThatWork() throws Exception {
        CniInstaller.Report r = installer().install(spec(List.of("10.77.0.0/24", "fd00:77::/64"), false, true));
        assertThat(r.notes()).isEmpty();
        assertThat(r.archive()).isPresent();
        assertThat(r.archive().get()).exists();
        assertThat(r.jars()).extracting(p -> p.getFileName().toString()).containsExactly("nodekit-cni-plugin.jar",
                "nodekit-spec.jar", "nodekit-common.jar", "jackson-core.jar", "slf4j-api.jar");
        assertThat(r.launchers()).extracting(p -> p.getFileName().toString()).containsExactly("nodekit-bridge",
                "nodekit-host-local", "nodekit-loopback", "loopback");
        Path launcher = dir.resolve("bin/nodekit-host-local");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(launcher))).isEqualTo("rwxr-xr-x");
        String text = Files.readString(launcher);
        assertThat(text).startsWith("#!/bin/sh\n" + CniInstaller.LAUNCHER_MARK).contains("exec " + java() + " ")
                .contains(PluginMain.class.getName() + " nodekit-host-local \"$@\"").contains("-Xlog:all=warning:stderr");

        NetConfList list = NetConfList.parse(Files.readString(dir.resolve("conf/10-nodekit.conflist")));
        assertThat(list.name()).isEqualTo("nodekit");
        assertThat(list.plugins().get(0).type()).isEqualTo("nodekit-bridge");
        assertThat(list.plugins().get(0).ipam().get().ranges()).hasSize(2);

        // The launchers run with an empty environment, as a runtime runs them.
        String version = run(dir.resolve("bin/nodekit-bridge"), Map.of("CNI_COMMAND", "VERSION"), "{}");
        assertThat(VersionInfo.parse(version).supportedVersions()).hasSize(5);
        String conf = "{\"cniVersion\":\"1.0.0\",\"name\":\"inst\",\"type\":\"nodekit-host-local\",\"ipam\":{"
                + "\"type\":\"nodekit-host-local\",\"ranges\":[[{\"subnet\":\"10.77.0.0/24\"}]],\"dataDir\":\""
                + dir.resolve("data") + "\"}}";
        String add = run(launcher, Map.of("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "c1", "CNI_NETNS", "/x",
                "CNI_IFNAME", "eth0", "CNI_PATH", dir.resolve("bin").toString()), conf);
        assertThat(Result.parse(add).ips().get(0).address()).isEqualTo("10.77.0.2/24");
    }

    @Test
    void neverOverwritesAConflistOrAForeignBinaryWithoutForce() throws Exception {
        Files.createDirectories(dir.resolve("conf"));
        Files.writeString(dir.resolve("conf/10-nodekit.conflist"), "mine");
        assertThatThrownBy(() -> installer().install(spec(List.of("10.77.0.0/24"), false, false)))
                .isInstanceOf(InstallException.class).hasMessageContaining("refusing to overwrite");
        assertThat(dir.resolve("bin")).doesNotExist();
        assertThat(Files.readString(dir.resolve("conf/10-nodekit.conflist"))).isEqualTo("mine");

        Files.createDirectories(dir.resolve("bin"));
        Files.writeString(dir.resolve("bin/loopback"), "\u007fELF a Go binary");
        CniInstaller.Report r = installer().install(spec(List.of(), false, false));
        assertThat(r.kept()).containsExactly(dir.resolve("bin/loopback"));
        assertThat(Files.readString(dir.resolve("bin/loopback"))).startsWith("\u007fELF");
        assertThat(r.conflist()).isEmpty();

        Files.writeString(dir.resolve("bin/nodekit-bridge"), "something else");
        assertThatThrownBy(() -> installer().install(spec(List.of(), false, false)))
                .hasMessageContaining("is not nodekit's");
        installer().install(spec(List.of("10.77.0.0/24"), true, false));
        assertThat(Files.readString(dir.resolve("conf/10-nodekit.conflist"))).contains("10.77.0.0/24");
        assertThat(Files.readString(dir.resolve("bin/loopback"))).contains(CniInstaller.LAUNCHER_MARK);
        // A nodekit launcher is replaced without --force.
        installer().install(spec(List.of(), false, false));
    }

    @Test
    void anIdenticalConflistIsLeftAsItIsSoTheInstallCanRunAgain() throws Exception {
        installer().install(spec(List.of("10.77.0.0/24"), false, false));
        Path conflist = dir.resolve("conf/10-nodekit.conflist");
        Files.setLastModifiedTime(conflist, java.nio.file.attribute.FileTime.fromMillis(0));
        CniInstaller.Report again = installer().install(spec(List.of("10.77.0.0/24"), false, false));
        assertThat(again.conflist()).contains(conflist);
        assertThat(Files.getLastModifiedTime(conflist).toMillis()).isZero();
        assertThatThrownBy(() -> installer().install(spec(List.of("10.78.0.0/24"), false, false)))
                .hasMessageContaining("exists with other content");
    }

    @Test
    void jvmModePutsTheLaunchersInBothPlacesAndNoClientSettings() throws Exception {
        CniInstaller.Report r = installer().install(spec(List.of(), false, false));
        assertThat(r.client()).isEmpty();
        for (String name : List.of("nodekit-bridge", "nodekit-host-local", "nodekit-loopback", "loopback")) {
            assertThat(Files.readString(dir.resolve("lib/launchers").resolve(name))).contains(CniInstaller.LAUNCHER_MARK);
            assertThat(Files.readString(dir.resolve("bin").resolve(name))).contains(CniInstaller.LAUNCHER_MARK);
        }
        assertThat(Files.readString(dir.resolve("lib/launchers/loopback"))).contains(" nodekit-loopback \"$@\"");
        assertThat(dir.resolve("bin").resolve(CniInstaller.CLIENT_CONF)).doesNotExist();
    }

    @Test
    void writesASystemdUnitForTheDaemon() throws Exception {
        InstallSpec s = InstallSpec.builder(dir.resolve("bin"), dir.resolve("conf"), dir.resolve("lib"), java())
                .archive(false).client(InstallSpec.ClientMode.JVM).daemonSocket(Path.of("/run/nk/cni.sock"))
                .systemdUnit(Optional.of(new InstallSpec.SystemdUnit(dir.resolve("unit/nodekit-cni.service"),
                        Path.of("/opt/nodekit/bin/nodekit"), Optional.of("unix:///run/containerd/containerd.sock"))))
                .build();
        CniInstaller.Report r = installer().install(s);
        assertThat(r.systemdUnit()).contains(dir.resolve("unit/nodekit-cni.service"));
        assertThat(Files.readString(dir.resolve("unit/nodekit-cni.service")))
                .contains("ExecStart=/opt/nodekit/bin/nodekit cni daemon --socket /run/nk/cni.sock --conf-dir "
                        + dir.resolve("conf") + " --cri-endpoint unix:///run/containerd/containerd.sock\n")
                .contains("Restart=always").contains("Before=containerd.service").contains("WantedBy=multi-user.target");
        assertThatThrownBy(() -> new InstallSpec.SystemdUnit(dir.resolve("u"), Path.of("/x"), Optional.of("tcp://1.2.3.4")))
                .hasMessageContaining("unix:///");
    }

    @Test
    void aClientBinaryThatIsNotOursIsRefused() throws Exception {
        Path fake = Files.writeString(dir.resolve("fake-client"), "\u007fELF not ours");
        InstallSpec s = InstallSpec.builder(dir.resolve("bin"), dir.resolve("conf"), dir.resolve("lib"), java())
                .archive(false).client(InstallSpec.ClientMode.THIN).clientBinary(Optional.of(fake)).build();
        assertThatThrownBy(() -> installer().install(s)).hasMessageContaining("is not a nodekit CNI client");
        // In auto mode the same problem degrades to the JVM launchers, with a note.
        CniInstaller.Report r = installer().install(InstallSpec.builder(dir.resolve("bin"), dir.resolve("conf"),
                dir.resolve("lib"), java()).archive(false).clientBinary(Optional.of(fake)).build());
        assertThat(r.client()).isEmpty();
        assertThat(r.notes()).anyMatch(n -> n.contains("JVM launchers"));
        assertThat(Files.readString(dir.resolve("bin/nodekit-bridge"))).contains(CniInstaller.LAUNCHER_MARK);
    }

    @Test
    void validatesItsSpec() {
        assertThatThrownBy(() -> spec(List.of("10.77.0.5/24"), false, false)).hasMessageContaining("network CIDR");
        assertThatThrownBy(() -> spec(List.of("10.77.0.0/24", "10.77.0.0/16"), false, false))
                .hasMessageContaining("overlaps");
        assertThatThrownBy(() -> new InstallSpec(Path.of("relative"), dir, dir, java(), List.of(), "n", "cni0", false,
                false, false, "warn", Optional.empty())).hasMessageContaining("absolute");
        assertThatThrownBy(() -> new InstallSpec(dir.resolve("a b"), dir, dir, java(), List.of(), "n", "cni0", false,
                false, false, "warn", Optional.empty())).hasMessageContaining("whitespace");
    }

    /**
     * The start-up guard: a host-local ADD through the installed jars loads no gRPC, Netty, databind,
     * OSHI or picocli class, and not even SLF4J, since nothing is logged on success.
     */
    @Test
    void theExecPathLoadsNothingHeavy() throws Exception {
        CniInstaller.Report r = installer().install(spec(List.of(), false, false));
        List<String> cp = new ArrayList<>();
        for (Path j : r.jars()) {
            cp.add(j.toString());
        }
        Path log = dir.resolve("classes.log");
        String conf = "{\"cniVersion\":\"1.0.0\",\"name\":\"inst\",\"type\":\"nodekit-host-local\",\"ipam\":{"
                + "\"type\":\"nodekit-host-local\",\"ranges\":[[{\"subnet\":\"10.77.0.0/24\"}]],\"dataDir\":\""
                + dir.resolve("data") + "\"}}";
        ProcessBuilder pb = new ProcessBuilder(java().toString(), "-Xlog:class+load=info:file=" + log, "-cp",
                String.join(":", cp), PluginMain.class.getName(), "nodekit-host-local");
        pb.environment().putAll(Map.of("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "c1", "CNI_NETNS", "/x", "CNI_IFNAME",
                "eth0", "CNI_PATH", "/x"));
        Process p = pb.start();
        p.getOutputStream().write(conf.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        List<String> loaded = Files.readAllLines(log);
        for (String heavy : new String[] {"io.grpc.", "io.netty.", "com.fasterxml.jackson.databind.", "oshi.",
            "picocli.", "org.slf4j.", "com.google.protobuf.", "io.fabric8."}) {
            assertThat(loaded).as(heavy).noneMatch(l -> l.contains(" " + heavy));
        }
        assertThat(loaded).filteredOn(l -> l.contains("dev.nodekit.")).hasSizeLessThan(80);
    }
}
