package dev.nodekit.common.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import io.prometheus.metrics.core.metrics.Counter;

class MetricsServerTest {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesTheInjectedRegistryOnMetricsAndStopsOnClose() throws Exception {
        Metrics metrics = Metrics.create();
        Counter c = Counter.builder().name("nodekit_test_events_total").help("test").register(metrics.registry());
        c.inc(3);
        int port;
        try (MetricsServer server = MetricsServer.start("127.0.0.1:0", metrics)) {
            port = server.port();
            assertThat(port).isPositive();
            HttpResponse<String> r = get(port, "/metrics");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("nodekit_test_events_total 3.0");
            assertThat(get(port, "/-/healthy").statusCode()).isEqualTo(200);
        }
        assertThatThrownBy(() -> get(port, "/metrics")).isInstanceOf(ConnectException.class);
    }

    @Test
    void aTakenPortFailsWithTheAddressInTheMessage() throws Exception {
        try (MetricsServer first = MetricsServer.start("127.0.0.1:0", Metrics.create())) {
            String taken = "127.0.0.1:" + first.port();
            assertThatThrownBy(() -> MetricsServer.start(taken, Metrics.create()))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining(taken);
        }
    }

    @Test
    void malformedAddressesFailBeforeBinding() {
        assertThatThrownBy(() -> MetricsServer.start("9808", Metrics.create()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no port");
    }

    @Test
    void registriesAreIsolatedAndInstrumentsRegisterOnce() {
        Metrics a = Metrics.create();
        Metrics b = Metrics.create();
        Counter ca = a.instruments(Counter.class, r -> Counter.builder().name("x_total").register(r));
        assertThat(a.instruments(Counter.class, r -> Counter.builder().name("x_total").register(r))).isSameAs(ca);
        Counter cb = b.instruments(Counter.class, r -> Counter.builder().name("x_total").register(r));
        assertThat(cb).isNotSameAs(ca);
        ca.inc();
        assertThat(a.scrapeText()).contains("x_total 1.0");
        assertThat(b.scrapeText()).contains("x_total 0.0");
        assertThat(Metrics.of(io.prometheus.metrics.model.registry.PrometheusRegistry.defaultRegistry))
                .isSameAs(Metrics.defaultMetrics());
    }

    @Test
    void jvmMetricsAreOptInAndCheap() {
        Metrics m = Metrics.create();
        assertThat(m.scrapeText()).doesNotContain("jvm_");
        long t0 = System.nanoTime();
        m.registerJvmMetrics().registerJvmMetrics(); // idempotent
        long registerMs = (System.nanoTime() - t0) / 1_000_000;
        long t1 = System.nanoTime();
        String text = m.scrapeText();
        long scrapeMs = (System.nanoTime() - t1) / 1_000_000;
        System.out.println("jvm metrics: register_ms=" + registerMs + " first_scrape_ms=" + scrapeMs);
        assertThat(text).contains("jvm_memory_used_bytes", "jvm_threads_current", "process_open_fds");
    }
}
