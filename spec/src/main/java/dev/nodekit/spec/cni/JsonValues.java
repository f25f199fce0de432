package dev.nodekit.spec.cni;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonGenerator;

/**
 * "Natural" JSON values for keys nodekit does not model: {@code null}, {@link String}, {@link Boolean},
 * {@link Integer}/{@link Long}/{@link BigInteger} for integers, {@link BigDecimal} for other numbers
 * (exact text kept), {@code List<Object>} and {@code Map<String, Object>} (insertion-ordered). Copies
 * are deeply immutable; JSON {@code null} is kept as a Java {@code null} entry.
 */
final class JsonValues {
    private JsonValues() {
    }

    /**
     * Deep immutable copy of a JSON object, rejecting values that are not JSON; {@code field} (may be
     * empty) prefixes the path in the message.
     */
    static Map<String, Object> copyObject(Map<?, ?> value, String field) {
        try {
            return copyMap(value);
        } catch (BadValue e) {
            String where = field.isEmpty() ? e.path : e.path.isEmpty() ? field
                    : e.path.startsWith("[") ? field + e.path : field + "." + e.path;
            throw Check.invalid(where.isEmpty() ? "extra" : where, e.problem);
        }
    }

    /** A value that is not JSON; the path (relative to the copied object) is built while unwinding. */
    private static final class BadValue extends RuntimeException {
        private static final long serialVersionUID = 1L;
        String path = "";
        final String problem;

        BadValue(String problem) {
            super(problem, null, false, false);
            this.problem = problem;
        }

        BadValue under(String key) {
            path = path.isEmpty() ? key : path.startsWith("[") ? key + path : key + "." + path;
            return this;
        }
    }

    private static Map<String, Object> copyMap(Map<?, ?> value) {
        LinkedHashMap<String, Object> out = new LinkedHashMap<>(value.size() * 2);
        for (Map.Entry<?, ?> e : value.entrySet()) {
            if (!(e.getKey() instanceof String)) {
                throw new BadValue("object key " + e.getKey() + " is not a string");
            }
            String k = (String) e.getKey();
            try {
                out.put(k, copy(e.getValue()));
            } catch (BadValue b) {
                throw b.under(k);
            }
        }
        return Collections.unmodifiableMap(out);
    }

    private static Object copy(Object v) {
        if (v == null || v instanceof String || v instanceof Boolean || v instanceof Integer
                || v instanceof Long || v instanceof BigInteger || v instanceof BigDecimal) {
            return v;
        }
        if (v instanceof Short || v instanceof Byte) {
            return ((Number) v).intValue();
        }
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw new BadValue(d + " is not a JSON number");
            }
            return BigDecimal.valueOf(d);
        }
        if (v instanceof Map) {
            return copyMap((Map<?, ?>) v);
        }
        if (v instanceof List) {
            List<?> list = (List<?>) v;
            ArrayList<Object> out = new ArrayList<>(list.size());
            for (int i = 0; i < list.size(); i++) {
                try {
                    out.add(copy(list.get(i)));
                } catch (BadValue b) {
                    throw b.under("[" + i + "]");
                }
            }
            return Collections.unmodifiableList(out);
        }
        throw new BadValue("a " + v.getClass().getName() + " is not a JSON value");
    }

    /** Writes a natural value (as produced by {@link #copyObject} or the decoder). */
    static void write(JsonGenerator g, Object v) throws IOException {
        if (v == null) {
            g.writeNull();
        } else if (v instanceof String) {
            g.writeString((String) v);
        } else if (v instanceof Boolean) {
            g.writeBoolean((Boolean) v);
        } else if (v instanceof Integer) {
            g.writeNumber((Integer) v);
        } else if (v instanceof Long) {
            g.writeNumber((Long) v);
        } else if (v instanceof BigInteger) {
            g.writeNumber((BigInteger) v);
        } else if (v instanceof BigDecimal) {
            g.writeNumber((BigDecimal) v);
        } else if (v instanceof Map) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                g.writeFieldName((String) e.getKey());
                write(g, e.getValue());
            }
            g.writeEndObject();
        } else if (v instanceof List) {
            g.writeStartArray();
            for (Object o : (List<?>) v) {
                write(g, o);
            }
            g.writeEndArray();
        } else {
            throw new IllegalStateException("not a natural JSON value: " + v.getClass().getName());
        }
    }

    /** Writes every entry of an extra map as fields of the object being written. */
    static void writeFields(JsonGenerator g, Map<String, Object> extra) throws IOException {
        for (Map.Entry<String, Object> e : extra.entrySet()) {
            g.writeFieldName(e.getKey());
            write(g, e.getValue());
        }
    }
}
