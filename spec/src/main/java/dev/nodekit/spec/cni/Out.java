package dev.nodekit.spec.cni;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import com.fasterxml.jackson.core.JsonGenerator;

/** Small writing helpers with Go's omitempty rules (empty lists and maps are left out). */
final class Out {
    private Out() {
    }

    static void strings(JsonGenerator g, String field, List<String> values) throws IOException {
        if (values.isEmpty()) {
            return;
        }
        g.writeArrayFieldStart(field);
        for (String s : values) {
            g.writeString(s);
        }
        g.writeEndArray();
    }

    static void string(JsonGenerator g, String field, Optional<String> value) throws IOException {
        if (value.isPresent()) {
            g.writeStringField(field, value.get());
        }
    }

    /** Writes {@code value} unless it is 0 (Go's omitempty for ints). */
    static void nonZero(JsonGenerator g, String field, int value) throws IOException {
        if (value != 0) {
            g.writeNumberField(field, value);
        }
    }

    static void number(JsonGenerator g, String field, OptionalInt value) throws IOException {
        if (value.isPresent()) {
            g.writeNumberField(field, value.getAsInt());
        }
    }

    static void values(JsonGenerator g, String field, List<? extends CniJson> values) throws IOException {
        if (values.isEmpty()) {
            return;
        }
        g.writeArrayFieldStart(field);
        for (CniJson v : values) {
            v.writeJson(g);
        }
        g.writeEndArray();
    }

    static void rangeSets(JsonGenerator g, String field, List<List<IpRange>> sets) throws IOException {
        if (sets.isEmpty()) {
            return;
        }
        g.writeArrayFieldStart(field);
        for (List<IpRange> set : sets) {
            g.writeStartArray();
            for (IpRange r : set) {
                r.writeJson(g);
            }
            g.writeEndArray();
        }
        g.writeEndArray();
    }

    static void stringMap(JsonGenerator g, String field, Map<String, String> values) throws IOException {
        if (values.isEmpty()) {
            return;
        }
        g.writeObjectFieldStart(field);
        for (Map.Entry<String, String> e : values.entrySet()) {
            g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
    }
}
