package dev.nodekit.common.config;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.MapperBuilder;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializerBase;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * The one way nodekit reads configuration files: YAML (JSON is accepted as the YAML subset it is,
 * and files named {@code *.json} are read with the strict JSON parser), bound to a record or class
 * with unknown fields rejected, and every error reported as {@code file:line:column: field.path:
 * what is wrong} - including the {@link IllegalArgumentException}s and
 * {@link NullPointerException}s that a record's compact constructor throws to validate itself.
 *
 * <p>Conventions for config records: optional fields are nullable components (boxed
 * {@code Integer}, not {@code int}, where 0 is a valid value) that the compact constructor
 * replaces with defaults; required fields are checked with
 * {@code Objects.requireNonNull(name, "name")} (reported as "name: required field is missing");
 * other checks throw {@code IllegalArgumentException("name: what is wrong")} or a message starting
 * with the field's name (the error then points at that field). {@link Duration} fields take
 * {@link Durations} syntax ({@code 5s}, {@code 250ms}, {@code 1h30m}).
 */
public final class ConfigLoader {
    private static final ObjectMapper YAML = configure(YAMLMapper.builder()).build();
    private static final ObjectMapper JSON = configure(JsonMapper.builder()).build();
    private static final Pattern TOKEN_IN_MESSAGE = Pattern.compile("\\(token `JsonToken\\.([A-Z_]+)`\\)");
    private static final Pattern KIND_IN_MESSAGE = Pattern.compile("from ([A-Z][a-z]+(?:-point)?) value");
    private static final Pattern LEADING_NAME = Pattern.compile("^([A-Za-z_][A-Za-z0-9_-]*)(:\\s*|\\s+)");

    private ConfigLoader() {
    }

    /** Reads {@code file} (UTF-8) and binds it to {@code type}. */
    public static <T> T load(Path file, Class<T> type) throws ConfigException {
        String source = file.toString();
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(source, 0, 0, "", "no such file", e);
        } catch (MalformedInputException e) {
            throw new ConfigException(source, 0, 0, "", "not UTF-8 text", e);
        } catch (IOException e) {
            throw new ConfigException(source, 0, 0, "", "cannot read: " + e, e);
        }
        return parse(source, text, type);
    }

    /**
     * Parses {@code text} and binds it to {@code type}; {@code source} names it in errors (a path,
     * or {@code --config flag}), and a name ending in {@code .json} selects the JSON parser.
     */
    public static <T> T parse(String source, String text, Class<T> type) throws ConfigException {
        ObjectMapper mapper = source.toLowerCase(Locale.ROOT).endsWith(".json") ? JSON : YAML;
        LocationIndex index = new LocationIndex();
        try (JsonParser p = mapper.createParser(text)) {
            if (!index.build(p)) {
                throw new ConfigException(source, 0, 0, "", "the document is empty", null);
            }
        } catch (JsonProcessingException e) {
            throw translate(source, e, index);
        } catch (IOException e) {
            throw new ConfigException(source, 0, 0, "", "cannot parse: " + e, e);
        }
        T value;
        try {
            value = mapper.readValue(text, type);
        } catch (JsonProcessingException e) {
            throw translate(source, e, index);
        }
        if (value == null) {
            throw new ConfigException(source, 1, 1, "", "the document is null; expected " + describe(type), null);
        }
        return value;
    }

    /**
     * Binds one part of a document to {@code type}: the value at {@code path} (field names and list
     * indexes, e.g. {@code ["interceptors", 2, "settings"]}) or, when it is absent or null, an empty
     * object. For configs whose parts are typed by a plug-in only known after the document is read.
     * Errors carry the line and column in {@code text} and the full field path
     * ({@code interceptors[2].settings.rules[0].deny}).
     */
    public static <T> T parseSection(String source, String text, List<Object> path, Class<T> type)
            throws ConfigException {
        ObjectMapper mapper = source.toLowerCase(Locale.ROOT).endsWith(".json") ? JSON : YAML;
        List<Object> prefix = List.copyOf(path);
        LocationIndex index = new LocationIndex();
        com.fasterxml.jackson.databind.JsonNode node;
        try (JsonParser p = mapper.createParser(text)) {
            index.build(p);
            node = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            throw translate(source, e, index, List.of());
        } catch (IOException e) {
            throw new ConfigException(source, 0, 0, "", "cannot parse: " + e, e);
        }
        for (Object segment : prefix) {
            if (node == null || node.isMissingNode() || node.isNull()) {
                break;
            }
            node = segment instanceof Integer i ? node.path(i) : node.path((String) segment);
        }
        if (node == null || node.isMissingNode() || node.isNull()) {
            node = mapper.createObjectNode();
        }
        try (JsonParser tokens = mapper.treeAsTokens(node)) {
            T value = mapper.readValue(tokens, type);
            if (value == null) {
                throw new ConfigException(source, 0, 0, display(prefix), "is null; expected " + describe(type), null);
            }
            return value;
        } catch (JsonProcessingException e) {
            throw translate(source, e, index, prefix);
        } catch (IOException e) {
            throw new ConfigException(source, 0, 0, display(prefix), "cannot bind: " + e, e);
        }
    }

    /**
     * A copy of the YAML mapper configured as the loader uses it (strict binding, {@link Duration} as
     * {@code 5s}), for writing example configs or reading embedded ones.
     */
    public static ObjectMapper yamlMapper() {
        return YAML.copy();
    }

    private static <M extends ObjectMapper, B extends MapperBuilder<M, B>> B configure(B b) {
        SimpleModule durations = new SimpleModule("nodekit-durations");
        durations.addDeserializer(Duration.class, new DurationDeserializer());
        durations.addSerializer(Duration.class, new DurationSerializer());
        return b.enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
                .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
                .addModule(durations);
    }

    // ---- error translation ------------------------------------------------------------------

    private static ConfigException translate(String source, JsonProcessingException e, LocationIndex index) {
        return translate(source, e, index, List.of());
    }

    private static ConfigException translate(String source, JsonProcessingException e, LocationIndex index,
            List<Object> prefix) {
        List<Object> path = new ArrayList<>(prefix);
        if (e instanceof JsonMappingException jm) {
            path.addAll(segments(jm.getPath()));
        }
        JsonLocation loc = e.getLocation();
        String detail;
        if (e instanceof UnrecognizedPropertyException u) {
            detail = "unknown field '" + u.getPropertyName() + "'" + known(u.getKnownPropertyIds());
            loc = located(index, path, loc);
        } else if (e instanceof InvalidFormatException f) {
            detail = f.getTargetType() == Duration.class ? f.getOriginalMessage() : cannotParse(f);
            loc = located(index, path, loc);
        } else if (e instanceof ValueInstantiationException v) {
            Throwable cause = v.getCause() != null ? v.getCause() : v;
            String msg = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
            loc = located(index, path, loc);
            detail = msg;
            if (cause instanceof NullPointerException && msg.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                path.add(msg);
                detail = "required field is missing";
            } else {
                Matcher m = LEADING_NAME.matcher(msg);
                if (m.find()) {
                    List<Object> field = new ArrayList<>(path);
                    field.add(m.group(1));
                    if (index.contains(pointer(field))) {
                        path = field;
                        loc = index.get(pointer(field));
                        detail = m.group(2).startsWith(":") ? msg.substring(m.end()) : msg;
                    }
                }
            }
        } else if (e instanceof MismatchedInputException mi) {
            detail = mismatch(mi);
            loc = located(index, path, loc);
        } else if (e.getCause() instanceof MarkedYAMLException y && y.getProblemMark() != null) {
            // SnakeYAML's first line is the context ("while parsing a flow sequence"); the problem is what helps.
            String context = y.getContext() == null || y.getContextMark() == null ? ""
                    : " (" + y.getContext() + " started at line " + (y.getContextMark().getLine() + 1) + ")";
            detail = firstLine(y.getProblem()) + context;
            return new ConfigException(source, y.getProblemMark().getLine() + 1, y.getProblemMark().getColumn() + 1,
                    display(path), detail, e);
        } else {
            detail = firstLine(e.getOriginalMessage());
        }
        int line = loc == null ? 0 : Math.max(0, loc.getLineNr());
        int column = loc == null ? 0 : Math.max(0, loc.getColumnNr());
        return new ConfigException(source, line, column, display(path), detail, e);
    }

    private static JsonLocation located(LocationIndex index, List<Object> path, JsonLocation fallback) {
        for (int n = path.size(); n >= 0; n--) {
            JsonLocation l = index.get(pointer(path.subList(0, n)));
            if (l != null) {
                return l;
            }
        }
        return fallback;
    }

    private static List<Object> segments(List<JsonMappingException.Reference> refs) {
        List<Object> out = new ArrayList<>();
        for (JsonMappingException.Reference r : refs) {
            if (r.getFieldName() != null) {
                out.add(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                out.add(r.getIndex());
            }
        }
        return out;
    }

    static String pointer(List<Object> path) {
        StringBuilder sb = new StringBuilder();
        for (Object s : path) {
            sb.append('/').append(s instanceof String str ? LocationIndex.escape(str) : s);
        }
        return sb.toString();
    }

    static String display(List<Object> path) {
        StringBuilder sb = new StringBuilder();
        for (Object s : path) {
            if (s instanceof Integer i) {
                sb.append('[').append(i).append(']');
            } else if (((String) s).matches("[A-Za-z_][A-Za-z0-9_-]*")) {
                sb.append(sb.length() == 0 ? "" : ".").append(s);
            } else {
                sb.append("[\"").append(((String) s).replace("\"", "\\\"")).append("\"]");
            }
        }
        return sb.toString();
    }

    private static String known(Collection<Object> ids) {
        if (ids == null || ids.isEmpty()) {
            return "";
        }
        TreeSet<String> names = new TreeSet<>();
        ids.forEach(i -> names.add(String.valueOf(i)));
        return " (known fields: " + String.join(", ", names) + ")";
    }

    private static String cannotParse(InvalidFormatException f) {
        Class<?> target = f.getTargetType();
        String value = String.valueOf(f.getValue());
        if (target != null && target.isEnum()) {
            return "'" + value + "' is not one of " + Arrays.stream(target.getEnumConstants()).map(String::valueOf).toList();
        }
        return "cannot parse '" + value + "' as " + describe(target);
    }

    private static String mismatch(MismatchedInputException e) {
        String msg = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        if (msg.startsWith("Trailing token")) {
            return "only one document is allowed; found more content after the first";
        }
        if (msg.contains("Cannot map `null`")) {
            return "must not be null";
        }
        Class<?> target = e.getTargetType();
        // The parser is closed by now (its current token is gone); Jackson names the token in the message.
        Matcher tm = TOKEN_IN_MESSAGE.matcher(msg);
        Matcher km = KIND_IN_MESSAGE.matcher(msg);
        JsonToken token = tm.find() ? tokenNamed(tm.group(1)) : km.find() ? tokenOfKind(km.group(1)) : null;
        if (target != null && token != null) {
            return "expected " + describe(target) + ", got " + describe(token);
        }
        return firstLine(msg);
    }

    private static JsonToken tokenOfKind(String kind) {
        return switch (kind) {
            case "String" -> JsonToken.VALUE_STRING;
            case "Array" -> JsonToken.START_ARRAY;
            case "Object" -> JsonToken.START_OBJECT;
            case "Integer", "Integral", "Number" -> JsonToken.VALUE_NUMBER_INT;
            case "Floating-point" -> JsonToken.VALUE_NUMBER_FLOAT;
            case "Boolean" -> JsonToken.VALUE_TRUE;
            default -> null;
        };
    }

    private static JsonToken tokenNamed(String name) {
        try {
            return JsonToken.valueOf(name);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String describe(Class<?> t) {
        if (t == null) {
            return "a value";
        }
        if (t == int.class || t == Integer.class || t == long.class || t == Long.class || t == short.class
                || t == Short.class || t == byte.class || t == Byte.class) {
            return "an integer";
        }
        if (t == double.class || t == Double.class || t == float.class || t == Float.class) {
            return "a number";
        }
        if (t == boolean.class || t == Boolean.class) {
            return "a boolean (true or false)";
        }
        if (t == String.class) {
            return "a string";
        }
        if (t == Duration.class) {
            return "a duration (" + Durations.EXAMPLES + ")";
        }
        if (Path.class.isAssignableFrom(t)) {
            return "a path";
        }
        if (Collection.class.isAssignableFrom(t) || t.isArray()) {
            return "a list";
        }
        if (java.util.Map.class.isAssignableFrom(t) || t.isRecord()) {
            return "a mapping (" + t.getSimpleName() + ")";
        }
        return t.getSimpleName();
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case START_OBJECT, END_OBJECT, FIELD_NAME -> "a mapping";
            case START_ARRAY, END_ARRAY -> "a list";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT -> "an integer";
            case VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.toString();
        };
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "invalid document";
        }
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl).strip();
    }

    /** Reads {@link Durations} syntax; a bare number is an error that says which unit to add. */
    static final class DurationDeserializer extends JsonDeserializer<Duration> {
        @Override
        public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonToken t = p.currentToken();
            if (t == JsonToken.VALUE_STRING || t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
                String text = p.getText();
                try {
                    return Durations.parse(text);
                } catch (IllegalArgumentException e) {
                    throw InvalidFormatException.from(p, "cannot parse '" + text + "' as a duration ("
                            + e.getMessage() + ")", text, Duration.class);
                }
            }
            return (Duration) ctxt.handleUnexpectedToken(Duration.class, p);
        }
    }

    /** Writes a {@link Duration} as {@link Durations#format} does. */
    static final class DurationSerializer extends ToStringSerializerBase {
        private static final long serialVersionUID = 1L;

        DurationSerializer() {
            super(Duration.class);
        }

        @Override
        public String valueToString(Object value) {
            return Durations.format((Duration) value);
        }
    }
}
