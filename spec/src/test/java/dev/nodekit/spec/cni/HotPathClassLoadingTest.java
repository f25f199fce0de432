package dev.nodekit.spec.cni;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.core.JsonFactory;

/**
 * Guards the start-up design of the package (see package-info): in a fresh JVM whose class path holds
 * only this module and jackson-core, decoding a config and printing a result and an error loads no
 * databind class and spins no invokedynamic class (lambda, string concatenation, record methods).
 */
class HotPathClassLoadingTest {

    @Test
    void successPathLoadsNeitherDatabindNorInvokedynamicMachinery(@TempDir Path dir) throws Exception {
        Path stdin = dir.resolve("stdin.json");
        Files.writeString(stdin, Examples.BRIDGE_STDIN);
        Path log = dir.resolve("classes.log");
        String cp = path(HotPathMain.class) + File.pathSeparator + path(NetConf.class) + File.pathSeparator
                + path(JsonFactory.class);
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto", "-Xlog:class+load=info:file=" + log, "-cp", cp, HotPathMain.class.getName())
                .redirectInput(stdin.toFile())
                .redirectErrorStream(true)
                .start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();

        List<String> lines = output.lines().collect(Collectors.toList());
        JsonTrees.assertSameJson(lines.get(0), """
                {"cniVersion": "1.0.0",
                 "interfaces": [{"name": "cni0", "mac": "0a:58:0a:58:00:01"},
                                {"name": "eth0", "mac": "c2:11:22:33:44:55", "sandbox": "/run/netns/x"}],
                 "ips": [{"interface": 1, "address": "10.88.0.42/16", "gateway": "10.88.0.1"}],
                 "routes": [{"dst": "0.0.0.0/0"}]}
                """);
        JsonTrees.assertSameJson(lines.get(1), "{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"busy\"}");

        List<String> loaded = Files.readAllLines(log);
        assertThat(loaded).filteredOn(l -> l.contains("com.fasterxml.jackson.databind")).isEmpty();
        // An invokedynamic bootstrap spins hidden classes (LambdaForms, lambda proxies); the JDK's own
        // start-up classes (StringConcatFactory among them) come from the CDS archive and are not counted.
        assertThat(loaded).filteredOn(l -> l.contains("__JVM_LookupDefineClass__") || l.contains("$$Lambda")).isEmpty();
        assertThat(loaded).filteredOn(l -> l.contains("dev.nodekit.spec.cni.")).hasSizeLessThan(40);
    }

    private static String path(Class<?> c) throws Exception {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
