package dev.nodekit.common.fs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One on-disk JSON format with a version number: writers stamp the current version, readers refuse
 * newer versions with an "upgrade nodekit" message and bring older ones up to date through
 * registered migration steps before binding.
 *
 * <pre>{@code
 * static final VersionedFormat STATE = VersionedFormat.builder("csi volume state", 3)
 *         .migration(1, n -> n.set("capacityBytes", n.remove("size")))        // v1 -> v2
 *         .migration(2, n -> { n.putArray("snapshots"); return n; })          // v2 -> v3
 *         .build();
 * VolumeState s = STATE.read(file, VolumeState.class);
 * STATE.write(file, s);                                                       // {"version":3, ...}
 * }</pre>
 *
 * <p>The version lives in the file, not in the bound record: {@link #write} adds the field and
 * {@link #read} removes it before binding. Migrations run on a copy and never touch the version
 * field: after step N the version is N+1. Binding fails on unknown fields, so a
 * migration that forgets to rename one is caught the first time it runs.
 */
public final class VersionedFormat {
    private final String name;
    private final int currentVersion;
    private final int oldestVersion;
    private final String versionField;
    private final Map<Integer, UnaryOperator<ObjectNode>> migrations;
    private final OptionalInt versionWhenMissing;
    private final ObjectMapper mapper;

    private VersionedFormat(Builder b) {
        this.name = b.name;
        this.currentVersion = b.currentVersion;
        this.versionField = b.versionField;
        this.migrations = Map.copyOf(b.migrations);
        this.versionWhenMissing = b.versionWhenMissing;
        this.mapper = b.mapper;
        int oldest = currentVersion;
        while (migrations.containsKey(oldest - 1)) {
            oldest--;
        }
        this.oldestVersion = oldest;
        if (oldest != currentVersion - migrations.size()) {
            throw new IllegalArgumentException(name + ": migrations must be contiguous up to v" + currentVersion
                    + ", got steps from " + new TreeMap<>(migrations).keySet());
        }
    }

    /** A builder for format {@code name} (used in messages) whose writers write {@code currentVersion}. */
    public static Builder builder(String name, int currentVersion) {
        return new Builder(name, currentVersion);
    }

    /** The version {@link #write} stamps. */
    public int currentVersion() {
        return currentVersion;
    }

    /** The oldest version {@link #read} can migrate. */
    public int oldestVersion() {
        return oldestVersion;
    }

    /** The mapper used to bind and serialize (fails on unknown properties, sorted map keys, indented). */
    public ObjectMapper mapper() {
        return mapper;
    }

    /**
     * Checks the version of {@code document} and migrates a copy to {@link #currentVersion()}; the
     * copy still carries the version field.
     *
     * @param source names the document in messages (the file path)
     * @throws FormatVersionException when the version is missing, malformed, newer than current, older
     *         than {@link #oldestVersion()}, or a migration step failed
     */
    public ObjectNode upgrade(String source, JsonNode document) throws FormatVersionException {
        if (!(document instanceof ObjectNode)) {
            throw new FormatVersionException(source, OptionalInt.empty(),
                    "expected a JSON object (" + name + "), got " + document.getNodeType(), null);
        }
        ObjectNode node = ((ObjectNode) document).deepCopy();
        int version = versionOf(source, node);
        if (version > currentVersion) {
            throw new FormatVersionException(source, OptionalInt.of(version), "format version " + version
                    + " is newer than this nodekit understands (max " + currentVersion + "); upgrade nodekit", null);
        }
        if (version < oldestVersion) {
            throw new FormatVersionException(source, OptionalInt.of(version), "format version " + version
                    + " is older than this nodekit can migrate (oldest " + oldestVersion + ")", null);
        }
        for (int v = version; v < currentVersion; v++) {
            try {
                ObjectNode next = migrations.get(v).apply(node);
                node = Objects.requireNonNull(next, "migration returned null");
            } catch (RuntimeException e) {
                throw new FormatVersionException(source, OptionalInt.of(version), "migrating " + name + " from v" + v
                        + " to v" + (v + 1) + " failed: " + e.getMessage(), e);
            }
            node.put(versionField, v + 1);
        }
        return node;
    }

    private int versionOf(String source, ObjectNode node) throws FormatVersionException {
        JsonNode v = node.get(versionField);
        if (v == null || v.isNull()) {
            if (versionWhenMissing.isPresent()) {
                return versionWhenMissing.getAsInt();
            }
            throw new FormatVersionException(source, OptionalInt.empty(),
                    "no '" + versionField + "' field; not a " + name + " file?", null);
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0) {
            throw new FormatVersionException(source, OptionalInt.empty(),
                    "'" + versionField + "' must be a non-negative integer, got " + v, null);
        }
        return v.intValue();
    }

    /** Reads {@code file}, upgrades it and binds it to {@code type}. */
    public <T> T read(Path file, Class<T> type) throws IOException {
        return parse(file.toString(), Files.readAllBytes(file), type);
    }

    /** Parses {@code json}, upgrades it and binds it to {@code type}; {@code source} names it in messages. */
    public <T> T parse(String source, byte[] json, Class<T> type) throws IOException {
        JsonNode tree;
        try {
            tree = mapper.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IOException(source + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (tree == null || tree.isMissingNode()) {
            throw new IOException(source + ": empty file");
        }
        ObjectNode node = upgrade(source, tree);
        node.remove(versionField);
        try {
            return mapper.treeToValue(node, type);
        } catch (JsonProcessingException e) {
            throw new IOException(source + ": cannot read " + name + " v" + currentVersion + ": "
                    + e.getOriginalMessage(), e);
        }
    }

    /** {@code value} as JSON with the version field first, indented, with a trailing newline. */
    public byte[] toBytes(Object value) throws IOException {
        JsonNode tree = mapper.valueToTree(value);
        if (!(tree instanceof ObjectNode body)) {
            throw new IllegalArgumentException(name + ": only objects can be versioned, got " + tree.getNodeType());
        }
        if (body.has(versionField)) {
            throw new IllegalArgumentException(name + ": the value already has a '" + versionField
                    + "' property; the format owns that field");
        }
        ObjectNode out = mapper.createObjectNode();
        out.put(versionField, currentVersion);
        out.setAll(body);
        return (mapper.writeValueAsString(out) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** Writes {@code value} to {@code file} with {@link AtomicFiles}, mode 0600. */
    public void write(Path file, Object value) throws IOException {
        AtomicFiles.write(file, toBytes(value));
    }

    /** Writes {@code value} to {@code file} with {@link AtomicFiles} and the given mode. */
    public void write(Path file, Object value, Set<PosixFilePermission> permissions) throws IOException {
        AtomicFiles.write(file, toBytes(value), permissions);
    }

    /** Builds a {@link VersionedFormat}; see its class comment. */
    public static final class Builder {
        private final String name;
        private final int currentVersion;
        private String versionField = "version";
        private final Map<Integer, UnaryOperator<ObjectNode>> migrations = new TreeMap<>();
        private OptionalInt versionWhenMissing = OptionalInt.empty();
        private ObjectMapper mapper = defaultMapper();

        private Builder(String name, int currentVersion) {
            this.name = Objects.requireNonNull(name, "name");
            if (currentVersion < 1) {
                throw new IllegalArgumentException("currentVersion must be >= 1, got " + currentVersion);
            }
            this.currentVersion = currentVersion;
        }

        /** The name of the version field (default {@code version}). */
        public Builder versionField(String field) {
            if (field == null || field.isEmpty()) {
                throw new IllegalArgumentException("versionField must not be empty");
            }
            this.versionField = field;
            return this;
        }

        /**
         * Registers the step from {@code fromVersion} to {@code fromVersion + 1}. It may change the
         * node in place and return it, or return a new node; it does not touch the version field.
         */
        public Builder migration(int fromVersion, UnaryOperator<ObjectNode> step) {
            if (fromVersion < 0 || fromVersion >= currentVersion) {
                throw new IllegalArgumentException("migration from v" + fromVersion + " is outside 0.."
                        + (currentVersion - 1));
            }
            if (migrations.putIfAbsent(fromVersion, Objects.requireNonNull(step, "step")) != null) {
                throw new IllegalArgumentException("migration from v" + fromVersion + " registered twice");
            }
            return this;
        }

        /** Treat a document without the version field as this version (for files written before versioning). */
        public Builder versionWhenMissing(int version) {
            this.versionWhenMissing = OptionalInt.of(version);
            return this;
        }

        /** Binds and serializes with {@code m} instead of the default strict JSON mapper. */
        public Builder mapper(ObjectMapper m) {
            this.mapper = Objects.requireNonNull(m, "mapper");
            return this;
        }

        /** The format; fails when the migrations do not form a chain ending at the current version. */
        public VersionedFormat build() {
            return new VersionedFormat(this);
        }
    }

    private static ObjectMapper defaultMapper() {
        return JsonMapper.builder()
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(SerializationFeature.INDENT_OUTPUT)
                .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
                .build();
    }
}
