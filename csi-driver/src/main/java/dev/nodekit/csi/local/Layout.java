package dev.nodekit.csi.local;

import java.nio.file.Path;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;

/** Every path of the data dir, built only from validated pool names and UUIDs (never from request strings). */
final class Layout {
    /** Pool names: what {@code ObjectId} accepts for a pool, minus a leading dot (no hidden directories). */
    static final Pattern POOL_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.]{0,23}");
    static final String POOLS = "pools";
    static final String IMAGES = "images";
    static final String SNAPSHOTS = "snapshots";
    static final String RECORD_SUFFIX = ".json";
    static final String IMAGE_SUFFIX = ".img";
    static final String SNAPSHOT_SUFFIX = ".snap";

    private final Path root;

    /** {@code root} must already be absolute and canonical (the factory resolves it). */
    Layout(Path root) {
        this.root = Objects.requireNonNull(root, "root");
        if (!root.isAbsolute()) {
            throw new IllegalArgumentException("data dir must be absolute: " + root);
        }
    }

    Path root() {
        return root;
    }

    /** The data dir identity file (format version, node id). */
    Path marker() {
        return root.resolve("backend.json");
    }

    Path pools() {
        return root.resolve(POOLS);
    }

    Path pool(String pool) {
        return pools().resolve(checkPool(pool));
    }

    /** Where records and data files of this kind live in the pool. */
    Path dir(RecordKind kind, String pool) {
        return pool(pool).resolve(kind == RecordKind.IMAGE ? IMAGES : SNAPSHOTS);
    }

    Path record(RecordKind kind, String pool, UUID uuid) {
        return dir(kind, pool).resolve(uuid + RECORD_SUFFIX);
    }

    Path data(RecordKind kind, String pool, UUID uuid) {
        return dir(kind, pool).resolve(uuid + dataSuffix(kind));
    }

    Path attachments() {
        return root.resolve("node").resolve("attachments");
    }

    Path attachment(UUID image) {
        return attachments().resolve(image + RECORD_SUFFIX);
    }

    Path quarantine() {
        return root.resolve("quarantine");
    }

    static String dataSuffix(RecordKind kind) {
        return kind == RecordKind.IMAGE ? IMAGE_SUFFIX : SNAPSHOT_SUFFIX;
    }

    static boolean validPool(String pool) {
        return pool != null && POOL_NAME.matcher(pool).matches();
    }

    static String checkPool(String pool) {
        if (!validPool(pool)) {
            throw new IllegalArgumentException("pool name '" + pool + "' must match " + POOL_NAME.pattern());
        }
        return pool;
    }
}
