package dev.nodekit.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({
        "5s, PT5S",
        "250ms, PT0.25S",
        "2m, PT2M",
        "1h30m, PT1H30M",
        "1.5s, PT1.5S",
        "1d, PT24H",
        "100us, PT0.0001S",
        "100\u00b5s, PT0.0001S",
        "7ns, PT0.000000007S",
        "0, PT0S",
        "1m0s, PT1M",
        "' 3s ', PT3S",
        "PT10S, PT10S",
    })
    void parses(String text, String iso) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.parse(iso));
    }

    @ParameterizedTest
    @ValueSource(strings = {"5 sec", "5", "1.5", "s", "", "5x", "1h 30m", "5S", "-5s", "PT-5S", "P1Y"})
    void rejects(String text) {
        assertThatThrownBy(() -> Durations.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void errorMessagesSayWhatToWrite() {
        assertThatThrownBy(() -> Durations.parse("5")).hasMessage("a number needs a unit, e.g. 5s or 5ms");
        assertThatThrownBy(() -> Durations.parse("-1s")).hasMessage("negative durations are not allowed");
        assertThatThrownBy(() -> Durations.parse("5 sec")).hasMessageContaining("250ms, 5s, 2m, 1h30m");
        assertThatThrownBy(() -> Durations.parse("999999999999h")).hasMessageContaining("too long");
    }

    @Test
    void formatsReadablyAndRoundTrips() {
        assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
        assertThat(Durations.format(Duration.ofMillis(250))).isEqualTo("250ms");
        assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("1m30s");
        assertThat(Durations.format(Duration.ofMinutes(90))).isEqualTo("1h30m");
        assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1.5s");
        assertThat(Durations.format(Duration.ofNanos(1500))).isEqualTo("1500ns");
        assertThat(Durations.format(Duration.ofDays(2))).isEqualTo("48h");
        for (Duration d : List.of(Duration.ofNanos(1), Duration.ofMillis(61_001), Duration.ofHours(25).plusNanos(3),
                Duration.ofMillis(999), Duration.ofSeconds(3600), Duration.ofNanos(Long.MAX_VALUE))) {
            assertThat(Durations.parse(Durations.format(d))).isEqualTo(d);
        }
        assertThatThrownBy(() -> Durations.format(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
    }
}
