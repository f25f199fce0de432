package dev.nodekit.crishim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.config.ConfigException;
import dev.nodekit.crishim.api.FailureMode;

class CriShimConfigTest {
    @TempDir
    Path dir;

    @Test
    void flagsAloneGiveOneDefaultUpstreamAndTheMetricsChain() throws Exception {
        CriShimConfig c = CriShimConfig.load("unix:///run/nodekit/cri.sock",
                Optional.of("unix:///run/containerd/containerd.sock"), Optional.empty(), null, null);
        assertThat(c.listen()).isEqualTo(Path.of("/run/nodekit/cri.sock"));
        assertThat(c.upstreams()).containsExactly(new UpstreamConfig("default", "unix:///run/containerd/containerd.sock"));
        assertThat(c.interceptors()).extracting(InterceptorConfig::type).containsExactly("metrics");
        assertThat(c.socketMode()).isEqualTo("0660");
        assertThat(c.shutdownGrace()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.passThrough()).isEqualTo(CriShimConfig.PassThrough.FRAMES);
    }

    @Test
    void passThroughIsFramesUnlessTheFileSaysGrpcAndNothingElse() throws Exception {
        Path listen = Path.of("/tmp/s.sock");
        Optional<String> up = Optional.of("unix:///run/containerd/containerd.sock");
        assertThat(CriShimConfig.fromText(listen, up, "a.yaml", "passThrough: grpc\n", null, null).passThrough())
                .isEqualTo(CriShimConfig.PassThrough.GRPC);
        assertThat(CriShimConfig.fromText(listen, up, "b.yaml", "passThrough: frames\n", null, null).passThrough())
                .isEqualTo(CriShimConfig.PassThrough.FRAMES);
        assertThat(CriShimConfig.fromText(listen, up, "c.yaml", "interceptors: []\n", null, null).passThrough())
                .isEqualTo(CriShimConfig.PassThrough.FRAMES);
        assertThatThrownBy(() -> CriShimConfig.fromText(listen, up, "d.yaml", "passThrough: bytes\n", null, null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("d.yaml").hasMessageContaining("passThrough");
    }

    @Test
    void aFileGivesUpstreamsRoutingAndTheChain() throws Exception {
        Path f = dir.resolve("cri-shim.yaml");
        Files.writeString(f, """
                upstreams:
                  - {name: runc, endpoint: "unix:///run/containerd/containerd.sock"}
                  - {name: kata, endpoint: "unix:///run/kata/containerd.sock"}
                routing:
                  defaultUpstream: runc
                  runtimeHandlers: {kata: kata}
                interceptors:
                  - {type: audit, failure: closed, budget: 50ms}
                  - {type: metrics}
                socketMode: "0600"
                """);
        CriShimConfig c = CriShimConfig.load("unix:///tmp/s.sock", Optional.empty(), Optional.of(f), null, null);
        assertThat(c.upstreams()).extracting(UpstreamConfig::name).containsExactly("runc", "kata");
        assertThat(c.routing().runtimeHandlers()).containsEntry("kata", "kata");
        assertThat(c.interceptors().get(0).failure()).isEqualTo(FailureMode.CLOSED);
        assertThat(c.interceptors().get(0).budget()).isEqualTo(Duration.ofMillis(50));
        assertThat(c.interceptors().get(1).failure()).isNull(); // the provider's default
        assertThat(c.socketMode()).isEqualTo("0600");
        assertThat(CriShimConfig.load("unix:///tmp/s.sock", Optional.empty(), Optional.of(f), "0640", null).socketMode())
                .isEqualTo("0640");
    }

    @Test
    void mistakesAreRefusedWithTheirPlace() throws Exception {
        assertThatThrownBy(() -> CriShimConfig.load("unix:///tmp/s.sock", Optional.empty(), Optional.empty(), null, null))
                .hasMessageContaining("--upstream is required");
        assertThatThrownBy(() -> CriShimConfig.load("unix:///tmp/s.sock", Optional.of("unix:///tmp/s.sock"),
                Optional.empty(), null, null)).hasMessageContaining("the shim would call itself");
        assertThatThrownBy(() -> CriShimConfig.load("tcp://x", Optional.of("unix:///a.sock"), Optional.empty(), null,
                null)).hasMessageContaining("not a unix socket");
        assertThatThrownBy(() -> CriShimConfig.load("unix:///tmp/s.sock", Optional.empty(),
                Optional.of(dir.resolve("missing.yaml")), null, null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("no such file");

        assertThatThrownBy(() -> parse("""
                upstreams: [{name: a, endpoint: "unix:///a.sock"}]
                routing: {runtimeHandlers: {kata: b}}
                """)).hasMessageContaining("routing.runtimeHandlers.kata: no upstream is named 'b'");
        assertThatThrownBy(() -> parse("""
                upstreams: [{name: a, endpoint: "unix:///a.sock"}]
                interceptors: [{type: audit, budget: 5}]
                """)).isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.line()).isEqualTo(2);
                    assertThat(e.fieldPath()).isEqualTo("interceptors[0].budget");
                });
        assertThatThrownBy(() -> parse("""
                upstreams: [{name: A_B, endpoint: "unix:///a.sock"}]
                """)).isInstanceOfSatisfying(ConfigException.class,
                        e -> assertThat(e.fieldPath()).isEqualTo("upstreams[0].name"));
        assertThatThrownBy(() -> parse("""
                upstreams: [{name: a, endpoint: "unix:///a.sock"}]
                interceptors: [{type: audit, failure: maybe}]
                """)).isInstanceOf(ConfigException.class).hasMessageContaining("interceptors[0].failure");
        assertThatThrownBy(() -> CriShimConfig.fromText(Path.of("/tmp/s.sock"), Optional.of("unix:///b.sock"), "f.yaml",
                "upstreams: [{name: a, endpoint: \"unix:///a.sock\"}]\n", null, null))
                .hasMessageContaining("use one of them");
    }

    @Test
    void anEmptyChainIsAllowedAndMeansNoInterceptor() throws Exception {
        assertThat(parse("upstreams: [{name: a, endpoint: \"unix:///a.sock\"}]\ninterceptors: []\n").interceptors())
                .isEmpty();
    }

    private static CriShimConfig parse(String yaml) throws ConfigException {
        return CriShimConfig.fromText(Path.of("/tmp/s.sock"), Optional.empty(), "f.yaml", yaml, null, null);
    }
}
