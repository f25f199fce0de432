package dev.nodekit.spec.cni;

import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

/**
 * A jackson-core {@link JsonParser} plus the path of the value being read, so every failure names
 * the field it is about ({@code prevResult.ips[0].address: ...}). The path is a stack of names and
 * indexes turned into text only when something fails.
 *
 * <p>Conventions of the {@code read} methods of the records: they are called with the parser on the
 * first token of their value and leave it on the last one. {@code JSON null} for an optional field
 * means "absent", as in Go.
 */
final class JsonIn {
    private final JsonParser p;
    private String[] names = new String[16];
    private int[] indexes = new int[16];
    private int depth;
    /** The parser already sits on the first FIELD_NAME of the object being read (databind entry). */
    private boolean pendingField;

    JsonIn(JsonParser p) {
        this.p = p;
    }

    JsonParser parser() {
        return p;
    }

    JsonToken token() {
        return p.currentToken();
    }

    // ---------------------------------------------------------------- path

    /** Descends into field {@code name}. */
    void enter(String name) {
        grow();
        names[depth] = name;
        indexes[depth] = -1;
        depth++;
    }

    /** Descends into element {@code index} of the array being read. */
    void enter(int index) {
        grow();
        names[depth] = null;
        indexes[depth] = index;
        depth++;
    }

    void leave() {
        depth--;
    }

    private void grow() {
        if (depth == names.length) {
            String[] n = new String[depth * 2];
            int[] x = new int[depth * 2];
            System.arraycopy(names, 0, n, 0, depth);
            System.arraycopy(indexes, 0, x, 0, depth);
            names = n;
            indexes = x;
        }
    }

    /** The current path, with {@code leaf} appended when not null. */
    String path(String leaf) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < depth; i++) {
            if (names[i] != null) {
                if (b.length() > 0) {
                    b.append('.');
                }
                b.append(names[i]);
            } else {
                b.append('[').append(indexes[i]).append(']');
            }
        }
        if (leaf != null) {
            if (b.length() > 0) {
                b.append('.');
            }
            b.append(leaf);
        }
        return b.toString();
    }

    // ---------------------------------------------------------------- failures

    /** {@code field} (relative to the current path, may be null) has a bad value. */
    DecodeFailure invalid(String field, String problem) {
        String where = path(field);
        return new DecodeFailure(DecodeFailure.INVALID, where.isEmpty() ? problem : where + ": " + problem, null);
    }

    /** A record constructor refused the values of the object at the current path. */
    DecodeFailure invalid(IllegalArgumentException e) {
        String where = path(null);
        return new DecodeFailure(DecodeFailure.INVALID,
                where.isEmpty() ? e.getMessage() : where + "." + e.getMessage(), e);
    }

    DecodeFailure unsupportedVersion(String field, String problem) {
        String where = path(field);
        return new DecodeFailure(DecodeFailure.VERSION, where.isEmpty() ? problem : where + ": " + problem, null);
    }

    DecodeFailure mismatch(String field, String expected) {
        String where = path(field);
        String msg = "expected " + expected + ", got " + describe(p.currentToken());
        return new DecodeFailure(DecodeFailure.SHAPE, where.isEmpty() ? msg : where + ": " + msg, null);
    }

    static String describe(JsonToken t) {
        if (t == null) {
            return "end of input";
        }
        switch (t) {
            case START_OBJECT:
                return "an object";
            case START_ARRAY:
                return "an array";
            case VALUE_STRING:
                return "a string";
            case VALUE_NUMBER_INT:
            case VALUE_NUMBER_FLOAT:
                return "a number";
            case VALUE_TRUE:
            case VALUE_FALSE:
                return "a boolean";
            case VALUE_NULL:
                return "null";
            default:
                return t.asString() == null ? t.name() : t.asString();
        }
    }

    // ---------------------------------------------------------------- objects and arrays

    /** Requires the current value to be an object (or the databind case: its first field name). */
    void beginObject(String what) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.START_OBJECT) {
            pendingField = false;
        } else if (t == JsonToken.FIELD_NAME) {
            pendingField = true;
        } else {
            throw mismatch(null, what);
        }
    }

    /** Next field of the current object with the parser on its value, or null at the end of the object. */
    String nextField() throws IOException {
        JsonToken t = pendingField ? p.currentToken() : p.nextToken();
        pendingField = false;
        if (t == JsonToken.END_OBJECT) {
            return null;
        }
        String name = p.currentName();
        p.nextToken();
        return name;
    }

    /**
     * Starts reading array field {@code field}: false (nothing entered) for JSON null, else enters the
     * field; iterate with {@link #nextElement()} and finish with {@link #leave()}.
     */
    boolean beginArray(String field) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            return false;
        }
        if (t != JsonToken.START_ARRAY) {
            throw mismatch(field, "an array");
        }
        enter(field);
        return true;
    }

    /** Advances to the next array element; false at the end of the array. */
    boolean nextElement() throws IOException {
        return p.nextToken() != JsonToken.END_ARRAY;
    }

    /** Skips the current value (for fields a type deliberately ignores). */
    void skip() throws IOException {
        p.skipChildren();
    }

    // ---------------------------------------------------------------- scalars

    boolean isNull() {
        return p.currentToken() == JsonToken.VALUE_NULL;
    }

    /** String value or null for JSON null. */
    String string(String field) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_STRING) {
            return p.getText();
        }
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        throw mismatch(field, "a string");
    }

    Optional<String> optionalString(String field) throws IOException {
        return Optional.ofNullable(string(field));
    }

    /** Strict JSON boolean (Go's bool); null for JSON null. */
    Boolean bool(String field) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_TRUE) {
            return Boolean.TRUE;
        }
        if (t == JsonToken.VALUE_FALSE) {
            return Boolean.FALSE;
        }
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        throw mismatch(field, "true or false");
    }

    /** Boolean that may also arrive as the string "true"/"false" in any case (libcni's conflist flags). */
    boolean lenientBool(String field) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_STRING) {
            String s = p.getText();
            if ("true".equalsIgnoreCase(s)) {
                return true;
            }
            if ("false".equalsIgnoreCase(s)) {
                return false;
            }
            throw invalid(field, "'" + s + "' is not a boolean (expected true or false)");
        }
        Boolean b = bool(field);
        return b != null && b;
    }

    /** JSON integer that fits an int; {@code empty} for JSON null. */
    OptionalInt optionalInt(String field) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            return OptionalInt.empty();
        }
        if (t != JsonToken.VALUE_NUMBER_INT) {
            throw mismatch(field, "an integer");
        }
        if (p.getNumberType() != JsonParser.NumberType.INT) {
            throw invalid(field, p.getText() + " is out of range");
        }
        return OptionalInt.of(p.getIntValue());
    }

    /** JSON integer that fits an int, 0 for JSON null (Go's zero value). */
    int intOrZero(String field) throws IOException {
        return optionalInt(field).orElse(0);
    }

    /** JSON integer that fits a long, 0 for JSON null. */
    long longOrZero(String field) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            return 0;
        }
        if (t != JsonToken.VALUE_NUMBER_INT) {
            throw mismatch(field, "an integer");
        }
        JsonParser.NumberType nt = p.getNumberType();
        if (nt != JsonParser.NumberType.INT && nt != JsonParser.NumberType.LONG) {
            throw invalid(field, p.getText() + " is out of range");
        }
        return p.getLongValue();
    }

    CniVersion version(String field) throws IOException {
        String s = string(field);
        if (s == null) {
            return null;
        }
        try {
            return CniVersion.parse(s);
        } catch (IllegalArgumentException e) {
            throw invalid(field, e.getMessage());
        }
    }

    List<String> stringList(String field) throws IOException {
        if (!beginArray(field)) {
            return List.of();
        }
        ArrayList<String> out = new ArrayList<>();
        int i = 0;
        while (nextElement()) {
            if (p.currentToken() != JsonToken.VALUE_STRING) {
                enter(i);
                throw mismatch(null, "a string");
            }
            out.add(p.getText());
            i++;
        }
        leave();
        return out;
    }

    /** Object of strings, insertion-ordered (e.g. pod annotations). */
    Map<String, String> stringMap(String field) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            return Map.of();
        }
        if (t != JsonToken.START_OBJECT) {
            throw mismatch(field, "an object");
        }
        enter(field);
        LinkedHashMap<String, String> out = new LinkedHashMap<>();
        for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
            String name = p.currentName();
            p.nextToken();
            if (p.currentToken() != JsonToken.VALUE_STRING) {
                throw mismatch(name, "a string");
            }
            out.put(name, p.getText());
        }
        leave();
        return out;
    }

    /** Object of booleans (capabilities). */
    Map<String, Boolean> boolMap(String field) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            return Map.of();
        }
        if (t != JsonToken.START_OBJECT) {
            throw mismatch(field, "an object");
        }
        enter(field);
        LinkedHashMap<String, Boolean> out = new LinkedHashMap<>();
        for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
            String name = p.currentName();
            p.nextToken();
            Boolean b = bool(name);
            if (b == null) {
                throw mismatch(name, "true or false");
            }
            out.put(name, b);
        }
        leave();
        return out;
    }

    // ---------------------------------------------------------------- natural values

    /** Adds the current value as unknown field {@code field} to {@code extra} (created on demand). */
    Map<String, Object> extra(Map<String, Object> extra, String field) throws IOException {
        Map<String, Object> m = extra == null ? new LinkedHashMap<>() : extra;
        m.put(field, value());
        return m;
    }

    /** The current value as a natural, immutable JSON value (see {@link JsonValues}). */
    Object value() throws IOException {
        JsonToken t = p.currentToken();
        if (t == null) {
            throw mismatch(null, "a value");
        }
        switch (t) {
            case VALUE_STRING:
                return p.getText();
            case VALUE_TRUE:
                return Boolean.TRUE;
            case VALUE_FALSE:
                return Boolean.FALSE;
            case VALUE_NULL:
                return null;
            case VALUE_NUMBER_INT:
                switch (p.getNumberType()) {
                    case INT:
                        return p.getIntValue();
                    case LONG:
                        return p.getLongValue();
                    default:
                        BigInteger big = p.getBigIntegerValue();
                        return big;
                }
            case VALUE_NUMBER_FLOAT:
                return p.getDecimalValue();
            case START_ARRAY: {
                ArrayList<Object> out = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    out.add(value());
                }
                return Collections.unmodifiableList(out);
            }
            case START_OBJECT: {
                LinkedHashMap<String, Object> out = new LinkedHashMap<>();
                while (p.nextToken() != JsonToken.END_OBJECT) {
                    String name = p.currentName();
                    p.nextToken();
                    out.put(name, value());
                }
                return Collections.unmodifiableMap(out);
            }
            default:
                throw mismatch(null, "a value");
        }
    }
}
