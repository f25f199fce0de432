package dev.nodekit.crishim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.spec.cri.v1.VersionRequest;

/** A user interceptor compiled here, put in a jar that only the plug-in path names, loaded by ServiceLoader. */
class PluginLoadingTest {
    @TempDir
    Path dir;

    ShimHarness h;

    @AfterEach
    void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    private static final String SOURCE = """
            package example.plugin;

            import dev.nodekit.crishim.api.*;

            public final class Stamp implements CriInterceptorProvider {
                public record Settings(String suffix) {
                    public Settings {
                        if (suffix == null || suffix.isBlank()) throw new IllegalArgumentException("suffix: required");
                    }
                }

                @Override public String type() { return "stamp"; }

                @Override public CriInterceptor create(InterceptorContext ctx) throws dev.nodekit.common.config.ConfigException {
                    String suffix = ctx.settings(Settings.class).suffix();
                    return hooks -> hooks.after(CriMethods.VERSION, (call, req, resp) ->
                            resp.toBuilder().setRuntimeVersion(resp.getRuntimeVersion() + suffix).build());
                }
            }
            """;

    private Path buildPluginJar() throws Exception {
        Path src = dir.resolve("src/example/plugin/Stamp.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, SOURCE);
        Path classes = Files.createDirectories(dir.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertThat(javac).as("tests run on a JDK").isNotNull();
        int rc = javac.run(null, null, null, "-d", classes.toString(), "-cp", System.getProperty("java.class.path"),
                src.toString());
        assertThat(rc).isZero();
        Path jar = Files.createDirectories(dir.resolve("plugins")).resolve("stamp.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            put(out, "example/plugin/Stamp.class", Files.readAllBytes(classes.resolve("example/plugin/Stamp.class")));
            put(out, "example/plugin/Stamp$Settings.class",
                    Files.readAllBytes(classes.resolve("example/plugin/Stamp$Settings.class")));
            put(out, "META-INF/services/dev.nodekit.crishim.api.CriInterceptorProvider",
                    "example.plugin.Stamp\n".getBytes(StandardCharsets.UTF_8));
        }
        return jar;
    }

    private static void put(JarOutputStream out, String name, byte[] content) throws Exception {
        out.putNextEntry(new JarEntry(name));
        ((OutputStream) out).write(content);
        out.closeEntry();
    }

    @Test
    void aProviderInAJarOnThePluginPathIsFoundAndItsSettingsAreBound() throws Exception {
        Path jar = buildPluginJar();
        assertThatThrownBy(() -> Class.forName("example.plugin.Stamp")).isInstanceOf(ClassNotFoundException.class);
        h = new ShimHarness(dir);
        FakeCri rt = h.fake("rt");
        h.start(Optional.of(rt.endpoint()), """
                pluginPath: [%s]
                interceptors:
                  - type: stamp
                    settings: {suffix: "+stamped"}
                """.formatted(jar.getParent()));
        assertThat(h.runtime().version(VersionRequest.getDefaultInstance()).getRuntimeVersion())
                .isEqualTo("1.0.0-fake+stamped");
    }

    @Test
    void pluginSettingsErrorsAndBadPathsAreReported() throws Exception {
        Path jar = buildPluginJar();
        h = new ShimHarness(dir);
        FakeCri rt = h.fake("rt");
        assertThatThrownBy(() -> h.start(Optional.of(rt.endpoint()), """
                pluginPath: [%s]
                interceptors:
                  - type: stamp
                    settings: {suffix: " "}
                """.formatted(jar))).hasMessageContaining("test-config.yaml:4:")
                .hasMessageContaining("interceptors[0].settings.suffix: required");
        assertThatThrownBy(() -> h.start(Optional.of(rt.endpoint()), "pluginPath: [" + dir.resolve("nope") + "]\n"))
                .isInstanceOf(CriShimException.class).hasMessageContaining("neither a directory nor a .jar file");
        assertThat(List.of(jar)).allSatisfy(p -> assertThat(p).exists());
    }
}
