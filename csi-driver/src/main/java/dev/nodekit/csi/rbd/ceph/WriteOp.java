package dev.nodekit.csi.rbd.ceph;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An atomic compound write on one RADOS object: its steps run in order on the OSD and either all
 * apply or none does ({@code rados_write_op_operate}). Immutable; every method returns a new op.
 * The journal pattern "reserve a name" is
 * {@code WriteOp.empty().createExclusive().omapSetStrings(Map.of("csi.volname", name))}: it fails
 * with {@link CephAlreadyExistsException} when the object exists and leaves it untouched.
 */
public final class WriteOp {
    /** One step of the compound operation. */
    sealed interface Step {
    }

    /** Create the object; exclusive fails with EEXIST when it exists. */
    record Create(boolean exclusive) implements Step {
    }

    /** Fail with ENOENT unless the object exists. */
    record AssertExists() implements Step {
    }

    /** Set omap keys. */
    record OmapSet(Map<String, byte[]> entries) implements Step {
    }

    /** Remove omap keys (absent keys are fine). */
    record OmapRemove(List<String> keys) implements Step {
    }

    /** Remove the object (ENOENT when it does not exist). */
    record Remove() implements Step {
    }

    private static final WriteOp EMPTY = new WriteOp(List.of());

    private final List<Step> steps;

    private WriteOp(List<Step> steps) {
        this.steps = List.copyOf(steps);
    }

    /** An operation without steps; add them with the methods below. */
    public static WriteOp empty() {
        return EMPTY;
    }

    /** Adds an exclusive create: the whole operation fails with EEXIST when the object exists. */
    public WriteOp createExclusive() {
        return with(new Create(true));
    }

    /** Adds a create that succeeds whether or not the object exists. */
    public WriteOp createIfMissing() {
        return with(new Create(false));
    }

    /** Adds an existence check: the whole operation fails with ENOENT when the object is absent. */
    public WriteOp assertExists() {
        return with(new AssertExists());
    }

    /** Adds setting the omap keys of {@code entries} (the arrays are copied). */
    public WriteOp omapSet(Map<String, byte[]> entries) {
        Objects.requireNonNull(entries, "entries");
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("omapSet needs at least one entry");
        }
        Map<String, byte[]> copy = new LinkedHashMap<>();
        entries.forEach((k, v) -> copy.put(Objects.requireNonNull(k, "omap key"),
                Objects.requireNonNull(v, "omap value of " + k).clone()));
        return with(new OmapSet(Collections.unmodifiableMap(copy)));
    }

    /** Adds setting omap keys to UTF-8 encoded values. */
    public WriteOp omapSetStrings(Map<String, String> entries) {
        Objects.requireNonNull(entries, "entries");
        Map<String, byte[]> bytes = new LinkedHashMap<>();
        entries.forEach((k, v) -> bytes.put(k, Objects.requireNonNull(v, "omap value of " + k)
                .getBytes(StandardCharsets.UTF_8)));
        return omapSet(bytes);
    }

    /** Adds removing omap keys; keys that do not exist are ignored by the OSD. */
    public WriteOp omapRemove(Collection<String> keys) {
        Objects.requireNonNull(keys, "keys");
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("omapRemove needs at least one key");
        }
        List<String> copy = new ArrayList<>(keys.size());
        for (String k : keys) {
            copy.add(Objects.requireNonNull(k, "omap key"));
        }
        return with(new OmapRemove(List.copyOf(copy)));
    }

    /** Adds removing the whole object, data and omap. */
    public WriteOp remove() {
        return with(new Remove());
    }

    /** True when no step was added. */
    public boolean isEmpty() {
        return steps.isEmpty();
    }

    List<Step> steps() {
        return steps;
    }

    private WriteOp with(Step step) {
        List<Step> next = new ArrayList<>(steps);
        next.add(step);
        return new WriteOp(next);
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        for (Step s : steps) {
            parts.add(describe(s));
        }
        return "WriteOp" + parts;
    }

    private static String describe(Step s) {
        if (s instanceof Create c) {
            return c.exclusive() ? "create(exclusive)" : "create";
        } else if (s instanceof AssertExists) {
            return "assert-exists";
        } else if (s instanceof OmapSet o) {
            return "omap-set" + o.entries().keySet();
        } else if (s instanceof OmapRemove o) {
            return "omap-rm" + o.keys();
        }
        return "remove";
    }
}
