package dev.nodekit.spec.cni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CniVersionTest {

    @Test
    void parsesAndPrintsEveryKnownVersion() {
        for (CniVersion v : CniVersion.ALL) {
            assertThat(CniVersion.parse(v.toString())).isSameAs(v);
            assertThat(v.isKnown()).isTrue();
        }
        assertThat(CniVersion.ALL).extracting(CniVersion::toString)
                .containsExactly("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0");
        assertThat(CniVersion.LATEST).isEqualTo(CniVersion.V1_1_0);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "1", "1.0", "1.0.0.0", "v1.0.0", "1.0.0-rc1", "1..0", " 1.0.0", "-1.0.0", "1.0.x",
        "1234567890.0.0"})
    void rejectsWhatIsNotMajorMinorPatch(String text) {
        assertThatThrownBy(() -> CniVersion.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'" + text + "' is not a CNI version (expected MAJOR.MINOR.PATCH)");
    }

    @Test
    void comparesNumerically() {
        List<CniVersion> shuffled = new ArrayList<>(List.of(CniVersion.parse("0.10.0"), CniVersion.V1_1_0,
                CniVersion.V0_4_0, CniVersion.V0_3_1, CniVersion.parse("0.3.10")));
        Collections.shuffle(shuffled);
        Collections.sort(shuffled);
        assertThat(shuffled).extracting(CniVersion::toString).containsExactly("0.3.1", "0.3.10", "0.4.0", "0.10.0", "1.1.0");

        assertThat(CniVersion.V1_0_0.isAtLeast(CniVersion.V0_4_0)).isTrue();
        assertThat(CniVersion.V1_0_0.isAtLeast(CniVersion.V1_0_0)).isTrue();
        assertThat(CniVersion.V0_3_1.isAtLeast(CniVersion.V0_4_0)).isFalse();
        assertThat(CniVersion.V0_3_1.isBefore(CniVersion.V0_4_0)).isTrue();
        assertThat(CniVersion.parse("2.0.0").isKnown()).isFalse();
        assertThat(new CniVersion(1, 1, 0)).isEqualTo(CniVersion.V1_1_0).hasSameHashCodeAs(CniVersion.V1_1_0);
        assertThat(CniVersion.V1_1_0.isIn(List.of(CniVersion.V1_0_0, new CniVersion(1, 1, 0)))).isTrue();
    }

    @Test
    void picksTheHighestNotAboveACeiling() {
        assertThat(CniVersion.highest(List.of(CniVersion.V0_4_0, CniVersion.parse("1.3.0"), CniVersion.V1_0_0),
                CniVersion.LATEST)).contains(CniVersion.V1_0_0);
        assertThat(CniVersion.highest(List.of(CniVersion.parse("2.0.0")), CniVersion.LATEST)).isEmpty();
    }

    @Test
    void readsTheVersionOfAnyDocumentWithoutDecodingIt() throws Exception {
        assertThat(CniVersion.of("{\"cniVersion\":\"1.1.0\"}".getBytes(StandardCharsets.UTF_8))).isEqualTo(CniVersion.V1_1_0);
        assertThat(CniVersion.of(Examples.BRIDGE_STDIN.getBytes(StandardCharsets.UTF_8))).isEqualTo(CniVersion.V1_0_0);
        assertThat(CniVersion.of("{\"name\":\"x\",\"plugins\":[{}]}".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(CniVersion.DEFAULT);
        assertThat(CniVersion.of("{\"cniVersion\":\"7.0.0\"}".getBytes(StandardCharsets.UTF_8)).isKnown()).isFalse();
        assertThatThrownBy(() -> CniVersion.of("{\"cniVersion\":\"one\"}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(CniException.class, e -> {
                    assertThat(e.code()).isEqualTo(CniError.DECODING_FAILURE);
                    assertThat(e.getMessage()).startsWith("cniVersion: 'one' is not a CNI version");
                });
        assertThatThrownBy(() -> CniVersion.of(new byte[0]))
                .isInstanceOfSatisfying(CniException.class, e -> assertThat(e.code()).isEqualTo(CniError.DECODING_FAILURE));
    }
}
