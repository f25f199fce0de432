package dev.nodekit.cni.net;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

/** Reads {@code ip -j} output (one JSON array per batch line, concatenated) into plain maps and lists. */
final class IpJson {
    private static JsonFactory factory;

    private IpJson() {
    }

    private static synchronized JsonFactory factory() {
        if (factory == null) {
            factory = new JsonFactory();
        }
        return factory;
    }

    /** Every root-level value of {@code text}, in order; an {@code ip -j -batch} run gives one per line. */
    static List<Object> values(String text) throws IOException {
        List<Object> out = new ArrayList<>();
        try (JsonParser p = factory().createParser(text)) {
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                out.add(read(p, t));
            }
        }
        return out;
    }

    private static Object read(JsonParser p, JsonToken t) throws IOException {
        switch (t) {
            case START_OBJECT: {
                Map<String, Object> m = new LinkedHashMap<>();
                for (JsonToken f = p.nextToken(); f != JsonToken.END_OBJECT; f = p.nextToken()) {
                    String name = p.currentName();
                    m.put(name, read(p, p.nextToken()));
                }
                return m;
            }
            case START_ARRAY: {
                List<Object> l = new ArrayList<>();
                for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                    l.add(read(p, e));
                }
                return l;
            }
            case VALUE_STRING:
                return p.getText();
            case VALUE_NUMBER_INT:
                return p.getLongValue();
            case VALUE_NUMBER_FLOAT:
                return p.getDoubleValue();
            case VALUE_TRUE:
                return Boolean.TRUE;
            case VALUE_FALSE:
                return Boolean.FALSE;
            case VALUE_NULL:
                return null;
            default:
                throw new IOException("unexpected JSON token " + t);
        }
    }

    static String string(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v instanceof String ? (String) v : null;
    }

    static long number(Map<String, Object> m, String key, long dflt) {
        Object v = m.get(key);
        return v instanceof Long ? (Long) v : dflt;
    }

    static boolean flag(Map<String, Object> m, String key) {
        return Boolean.TRUE.equals(m.get(key));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(Object v) {
        return v instanceof Map ? (Map<String, Object>) v : Map.of();
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object v) {
        return v instanceof List ? (List<Object>) v : List.of();
    }
}
