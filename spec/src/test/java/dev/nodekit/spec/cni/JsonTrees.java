package dev.nodekit.spec.cni;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Compares JSON as trees (key order and whitespace do not matter; values and types do). */
final class JsonTrees {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private JsonTrees() {
    }

    static JsonNode tree(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }

    static void assertSameJson(String actual, String expected) {
        JsonNode a = tree(actual);
        JsonNode e = tree(expected);
        assertThat(a).as("JSON tree\nactual:   %s\nexpected: %s", a, e).isEqualTo(e);
    }
}
