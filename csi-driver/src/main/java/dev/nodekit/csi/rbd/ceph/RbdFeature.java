package dev.nodekit.csi.rbd.ceph;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * RBD image feature bits (librbd features.h), named as {@code rbd --image-feature} and the
 * StorageClass parameter {@code imageFeatures} name them.
 */
public enum RbdFeature {
    /** Clones (copy-on-write children). Required for snapshots that are cloned. */
    LAYERING(1L, "layering"),
    /** Fancy striping (stripe unit / count). */
    STRIPING_V2(1L << 1, "striping"),
    /** One writer at a time, handed over cooperatively. Needs layering-free krbd 4.9+ on the node. */
    EXCLUSIVE_LOCK(1L << 2, "exclusive-lock"),
    /** Tracks which objects exist (needs exclusive-lock). */
    OBJECT_MAP(1L << 3, "object-map"),
    /** Fast diff/du through the object map. */
    FAST_DIFF(1L << 4, "fast-diff"),
    /** Flatten also detaches snapshots from the parent. */
    DEEP_FLATTEN(1L << 5, "deep-flatten"),
    /** Write-ahead journal (mirroring). */
    JOURNALING(1L << 6, "journaling"),
    /** Data in a separate pool; set by librbd when a data pool is given. */
    DATA_POOL(1L << 7, "data-pool"),
    /** Marks images older clients must not touch; set by librbd. */
    OPERATIONS(1L << 8, "operations"),
    /** Image is being migrated; set by librbd. */
    MIGRATING(1L << 9, "migrating"),
    /** Non-primary mirror image; set by librbd. */
    NON_PRIMARY(1L << 10, "non-primary");

    private final long bit;
    private final String cliName;

    RbdFeature(long bit, String cliName) {
        this.bit = bit;
        this.cliName = cliName;
    }

    /** The feature bit. */
    public long bit() {
        return bit;
    }

    /** The name {@code rbd} and StorageClasses use, e.g. {@code exclusive-lock}. */
    public String cliName() {
        return cliName;
    }

    /** The feature named {@code name} ({@code exclusive-lock} or {@code EXCLUSIVE_LOCK}). */
    public static RbdFeature byName(String name) {
        String n = name.strip();
        for (RbdFeature f : values()) {
            if (f.cliName.equals(n) || f.name().equals(n.toUpperCase(Locale.ROOT))) {
                return f;
            }
        }
        List<String> known = new ArrayList<>();
        for (RbdFeature f : values()) {
            known.add(f.cliName);
        }
        throw new IllegalArgumentException("unknown RBD image feature '" + name + "'; known: " + known);
    }

    /** Parses a comma-separated list ({@code "layering,exclusive-lock"}); empty text is the empty set. */
    public static Set<RbdFeature> parseList(String csv) {
        Set<RbdFeature> out = EnumSet.noneOf(RbdFeature.class);
        for (String part : csv.split(",")) {
            if (!part.isBlank()) {
                out.add(byName(part));
            }
        }
        return out;
    }

    /** The bit mask of {@code features}. */
    public static long mask(Collection<RbdFeature> features) {
        long m = 0;
        for (RbdFeature f : features) {
            m |= f.bit;
        }
        return m;
    }

    /** The features whose bits are set in {@code mask}; unknown bits are ignored. */
    public static Set<RbdFeature> fromMask(long mask) {
        Set<RbdFeature> out = EnumSet.noneOf(RbdFeature.class);
        for (RbdFeature f : values()) {
            if ((mask & f.bit) != 0) {
                out.add(f);
            }
        }
        return out;
    }
}
