package dev.nodekit.cni.hostlocal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.cni.launch.PluginMain;
import dev.nodekit.spec.cni.IpConfig;
import dev.nodekit.spec.cni.Result;

/**
 * 100 nodekit-host-local processes started at once on one directory: each must get its own address,
 * which only the cross-process lock can guarantee. Each child is a real JVM running {@link PluginMain}.
 */
class HostLocalProcessesTest {
    @TempDir
    Path data;

    @Test
    void hundredParallelProcessesGetHundredDistinctAddresses() throws Exception {
        String conf = "{\"cniVersion\":\"1.0.0\",\"name\":\"procs\",\"type\":\"nodekit-host-local\",\"ipam\":{"
                + "\"type\":\"nodekit-host-local\",\"ranges\":[[{\"subnet\":\"10.9.0.0/24\"}]],\"dataDir\":\"" + data
                + "\"}}";
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> procs = new ArrayList<>();
        List<Path> outs = new ArrayList<>();
        Path in = Files.writeString(data.resolve("stdin.json"), conf);
        for (int i = 0; i < 100; i++) {
            ProcessBuilder pb = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx32m",
                    "-Xshare:auto", "-XX:-UsePerfData", "-cp", System.getProperty("java.class.path"),
                    PluginMain.class.getName(), HostLocalPlugin.TYPE);
            Map<String, String> env = pb.environment();
            env.put("CNI_COMMAND", "ADD");
            env.put("CNI_CONTAINERID", "proc" + i);
            env.put("CNI_NETNS", "/proc/self/ns/net-does-not-matter");
            env.put("CNI_IFNAME", "eth0");
            env.put("CNI_PATH", "/nonexistent");
            Path out = data.resolve("out" + i);
            outs.add(out);
            pb.redirectInput(in.toFile()).redirectOutput(out.toFile()).redirectError(new File(out + ".err"));
            procs.add(pb.start());
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < procs.size(); i++) {
            Process p = procs.get(i);
            assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("process %d finished", i).isTrue();
            String stdout = Files.readString(outs.get(i), StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as("process %d: %s %s", i, stdout, Files.readString(Path.of(outs.get(i) + ".err")))
                    .isZero();
            for (IpConfig ip : Result.parse(stdout).ips()) {
                seen.add(ip.address());
            }
        }
        assertThat(seen).hasSize(100);
        try (var s = Files.list(data.resolve("procs"))) {
            assertThat(s.filter(f -> f.getFileName().toString().startsWith("10.9.0.")).count()).isEqualTo(100);
        }
    }
}
