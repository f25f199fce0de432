package dev.nodekit.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    enum Level { DEBUG, INFO, WARN }

    /** A CRI-shim-like interceptor: name required, timeout defaults to 5s and must be positive. */
    record Interceptor(String name, Duration timeout, List<String> methods) {
        Interceptor {
            Objects.requireNonNull(name, "name");
            timeout = timeout == null ? Duration.ofSeconds(5) : timeout;
            if (timeout.isZero()) {
                throw new IllegalArgumentException("timeout: must be positive");
            }
            methods = methods == null ? List.of() : List.copyOf(methods);
        }
    }

    record CriConfig(Path socket, Path upstream, List<Interceptor> interceptors, Level logLevel, int maxConcurrent,
            Map<String, String> labels) {
        CriConfig {
            Objects.requireNonNull(socket, "socket");
            interceptors = interceptors == null ? List.of() : List.copyOf(interceptors);
            logLevel = logLevel == null ? Level.INFO : logLevel;
            maxConcurrent = maxConcurrent == 0 ? 64 : maxConcurrent;
            if (maxConcurrent < 0) {
                throw new IllegalArgumentException("maxConcurrent must not be negative, got " + maxConcurrent);
            }
            if (upstream != null && upstream.equals(socket)) {
                throw new IllegalArgumentException("the socket and the upstream are the same file");
            }
            labels = labels == null ? Map.of() : Map.copyOf(labels);
        }
    }

    static final String GOOD = """
            # nodekit CRI shim
            socket: /run/nodekit/cri.sock
            upstream: /run/containerd/containerd.sock
            logLevel: debug
            labels:
              zone: a
            interceptors:
              - name: audit
                methods: [RunPodSandbox, CreateContainer]
              - name: policy
                timeout: 250ms
            """;

    @Test
    void bindsYamlWithDefaults() throws Exception {
        CriConfig c = ConfigLoader.parse("cri.yaml", GOOD, CriConfig.class);
        assertThat(c.socket()).isEqualTo(Path.of("/run/nodekit/cri.sock"));
        assertThat(c.upstream()).isEqualTo(Path.of("/run/containerd/containerd.sock"));
        assertThat(c.logLevel()).isEqualTo(Level.DEBUG);
        assertThat(c.maxConcurrent()).isEqualTo(64);
        assertThat(c.labels()).containsExactly(Map.entry("zone", "a"));
        assertThat(c.interceptors()).containsExactly(
                new Interceptor("audit", Duration.ofSeconds(5), List.of("RunPodSandbox", "CreateContainer")),
                new Interceptor("policy", Duration.ofMillis(250), List.of()));
    }

    @Test
    void jsonIsAcceptedInYamlFilesAndByExtension(@TempDir Path dir) throws Exception {
        String json = "{\"socket\": \"/s.sock\", \"interceptors\": [{\"name\": \"a\", \"timeout\": \"2m\"}]}";
        CriConfig fromYaml = ConfigLoader.parse("cri.yaml", json, CriConfig.class);
        Path f = Files.writeString(dir.resolve("cri.json"), json);
        CriConfig fromJson = ConfigLoader.load(f, CriConfig.class);
        assertThat(fromJson).isEqualTo(fromYaml);
        assertThat(fromJson.interceptors().get(0).timeout()).isEqualTo(Duration.ofMinutes(2));
        // The JSON parser is strict where YAML would not be.
        assertThatThrownBy(() -> ConfigLoader.parse("cri.json", "socket: /s.sock", CriConfig.class))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("cri.json:1:");
    }

    @Test
    void badDurationNamesFileLineColumnAndFieldPath(@TempDir Path dir) throws Exception {
        String yaml = """
                socket: /run/nodekit/cri.sock
                interceptors:
                  - name: audit
                  - name: policy
                    timeout: 5 sec
                """;
        Path f = Files.writeString(dir.resolve("cri.yaml"), yaml);
        assertThatThrownBy(() -> ConfigLoader.load(f, CriConfig.class)).isInstanceOfSatisfying(ConfigException.class, e -> {
            assertThat(e).hasMessage(f + ":5:5: interceptors[1].timeout: cannot parse '5 sec' as a duration"
                    + " (use a number with a unit (ns, us, ms, s, m, h, d), e.g. 250ms, 5s, 2m, 1h30m)");
            assertThat(e.source()).isEqualTo(f.toString());
            assertThat(e.line()).isEqualTo(5);
            assertThat(e.column()).isEqualTo(5);
            assertThat(e.fieldPath()).isEqualTo("interceptors[1].timeout");
        });
    }

    @Test
    void bareNumberDurationAsksForAUnit() {
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", "socket: /s\ninterceptors: [{name: a, timeout: 5}]",
                CriConfig.class)).hasMessage("c.yaml:2:26: interceptors[0].timeout: cannot parse '5' as a duration"
                        + " (a number needs a unit, e.g. 5s or 5ms)");
    }

    @Test
    void unknownFieldsAreErrorsListingTheKnownOnes() {
        String yaml = "socket: /s\ninterceptors:\n  - name: a\n    timout: 5s\n";
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", yaml, CriConfig.class))
                .hasMessage("c.yaml:4:5: interceptors[0].timout: unknown field 'timout' (known fields: methods, name, timeout)");
    }

    @Test
    void compactConstructorErrorNamingAFieldPointsAtIt() {
        String yaml = "socket: /s\ninterceptors:\n  - name: a\n    timeout: 0s\n";
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", yaml, CriConfig.class))
                .hasMessage("c.yaml:4:5: interceptors[0].timeout: must be positive");
        String neg = "socket: /s\nmaxConcurrent: -1\n";
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", neg, CriConfig.class))
                .hasMessage("c.yaml:2:1: maxConcurrent: maxConcurrent must not be negative, got -1");
    }

    @Test
    void compactConstructorErrorAboutTheWholeObjectPointsAtTheObject() {
        String yaml = "\n\nsocket: /s\nupstream: /s\n";
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", yaml, CriConfig.class))
                .hasMessage("c.yaml:3:1: the socket and the upstream are the same file");
    }

    @Test
    void requiredFieldMissing() {
        String yaml = "socket: /s\ninterceptors:\n  - timeout: 1s\n";
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", yaml, CriConfig.class))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e).hasMessage("c.yaml:3:5: interceptors[0].name: required field is missing");
                });
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", "logLevel: warn\n", CriConfig.class))
                .hasMessage("c.yaml:1:1: socket: required field is missing");
    }

    @Test
    void wrongShapesAndScalars() {
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", "socket: /s\nmaxConcurrent: lots\n", CriConfig.class))
                .hasMessage("c.yaml:2:1: maxConcurrent: cannot parse 'lots' as an integer");
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", "socket: [a, b]\n", CriConfig.class))
                .hasMessage("c.yaml:1:1: socket: expected a path, got a list");
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", "socket: /s\ninterceptors: {name: a}\n", CriConfig.class))
                .hasMessageStartingWith("c.yaml:2:1: interceptors: expected a list");
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", "socket: /s\nlogLevel: trace\n", CriConfig.class))
                .hasMessage("c.yaml:2:1: logLevel: 'trace' is not one of [DEBUG, INFO, WARN]");
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", "socket: /s\nmaxConcurrent: {a: 1}\n", CriConfig.class))
                .hasMessage("c.yaml:2:1: maxConcurrent: expected an integer, got a mapping");
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", "just a string\n", CriConfig.class))
                .hasMessageStartingWith("c.yaml:1:1: expected a mapping (CriConfig), got a string");
    }

    @Test
    void duplicateKeysAreErrors() {
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", "socket: /a\nsocket: /b\n", CriConfig.class))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.line()).isEqualTo(2);
                    assertThat(e.detail()).containsIgnoringCase("duplicate").contains("socket");
                });
    }

    @Test
    void syntaxErrorsHaveALocation() {
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", "socket: /s\ninterceptors:\n  - name: [a\n", CriConfig.class))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.line()).isGreaterThanOrEqualTo(3);
                    assertThat(e.detail()).isNotBlank().doesNotContain("\n");
                });
        assertThatThrownBy(() -> ConfigLoader.parse("c.json", "{\"socket\": \"/s\",}", CriConfig.class))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.line()).isEqualTo(1));
    }

    @Test
    void emptyNullAndMultiDocumentInputs() {
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", "", CriConfig.class))
                .hasMessage("c.yaml: the document is empty");
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", "# only a comment\n", CriConfig.class))
                .hasMessage("c.yaml: the document is empty");
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", "~\n", CriConfig.class))
                .hasMessageContaining("the document is null");
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", "socket: /a\n---\nsocket: /b\n", CriConfig.class))
                .hasMessageContaining("only one document is allowed");
    }

    @Test
    void unreadableFiles(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("missing.yaml"), CriConfig.class))
                .hasMessage(dir.resolve("missing.yaml") + ": no such file");
        Path latin1 = Files.write(dir.resolve("l.yaml"), new byte[] {'a', ':', ' ', (byte) 0xE9, '\n'});
        assertThatThrownBy(() -> ConfigLoader.load(latin1, CriConfig.class)).hasMessage(latin1 + ": not UTF-8 text");
    }

    @Test
    void keysThatAreNotIdentifiersAreQuotedInPaths() {
        record Labels(Map<String, Integer> weights) {
        }
        assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", "weights:\n  topology.kubernetes.io/zone: high\n", Labels.class))
                .hasMessage("c.yaml:2:3: weights[\"topology.kubernetes.io/zone\"]: cannot parse 'high' as an integer");
    }

    @Test
    void yamlMapperWritesDurationsInTheSameSyntax() throws Exception {
        String yaml = ConfigLoader.yamlMapper().writeValueAsString(new Interceptor("a", Duration.ofSeconds(90), List.of()));
        assertThat(yaml).contains("timeout: \"1m30s\"");
        assertThat(ConfigLoader.parse("x.yaml", yaml, Interceptor.class).timeout()).isEqualTo(Duration.ofSeconds(90));
    }

    @Test
    void aSectionBindsToItsOwnTypeWithErrorsPointingIntoTheWholeFile() throws Exception {
        String text = """
                interceptors:
                  - type: policy
                    settings:
                      name: strict
                      timeout: 250ms
                  - type: audit
                    settings:
                      name: audit
                      timeout: soon
                """;
        Interceptor first = ConfigLoader.parseSection("shim.yaml", text, List.of("interceptors", 0, "settings"),
                Interceptor.class);
        assertThat(first.name()).isEqualTo("strict");
        assertThat(first.timeout()).isEqualTo(Duration.ofMillis(250));

        assertThatThrownBy(() -> ConfigLoader.parseSection("shim.yaml", text,
                List.of("interceptors", 1, "settings"), Interceptor.class))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.fieldPath()).isEqualTo("interceptors[1].settings.timeout");
                    assertThat(e.line()).isEqualTo(9);
                    assertThat(e.getMessage()).startsWith("shim.yaml:9:");
                });
        assertThatThrownBy(() -> ConfigLoader.parseSection("shim.yaml", text,
                List.of("interceptors", 5, "settings"), Interceptor.class))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.getMessage())
                        .contains("interceptors[5].settings.name").contains("required field is missing"));
    }
}
