package dev.nodekit.csi.rbd.ceph;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.sun.jna.Pointer;

/**
 * Byte layouts of the librbd/librados structs nodekit reads, for LP64 Linux (pointers, size_t,
 * time_t and int64 are 8 bytes, enums and int 4, bool 1; natural alignment). Offsets are written
 * out instead of using JNA {@code Structure} so that each one can be checked against librbd.h at
 * a glance and no reflection runs on the hot path.
 */
final class RbdLayouts {
    /** rbd_image_spec_t { char *id; char *name; }. */
    static final int IMAGE_SPEC_SIZE = 16;
    /** rbd_linked_image_spec_t { int64 pool_id; char *pool_name, *pool_namespace, *image_id, *image_name; bool trash; }. */
    static final int LINKED_IMAGE_SPEC_SIZE = 48;
    /** rbd_snap_spec_t { uint64 id; rbd_snap_namespace_type_t namespace_type; char *name; }. */
    static final int SNAP_SPEC_SIZE = 24;
    /** rbd_snap_info_t { uint64 id; uint64 size; const char *name; }. */
    static final int SNAP_INFO_SIZE = 24;
    /** rbd_image_watcher_t { char *addr; int64 id; uint64 cookie; }. */
    static final int WATCHER_SIZE = 24;
    /** rbd_trash_image_info_t { char *id; char *name; enum source; time_t deletion_time, deferment_end_time; }. */
    static final int TRASH_INFO_SIZE = 40;
    /**
     * rbd_image_info_t { uint64 size, obj_size, num_objs; int order; char block_name_prefix[24];
     * int64 parent_pool; char parent_name[96]; } = 8+8+8+4+24 (+4 padding) +8+96 = 160.
     */
    static final int IMAGE_INFO_SIZE = 160;
    /** struct rados_pool_stat_t: 16 x uint64 (Nautilus and later). */
    static final int POOL_STAT_SIZE = 16 * 8;
    /** struct rados_cluster_stat_t: 4 x uint64. */
    static final int CLUSTER_STAT_SIZE = 4 * 8;

    private RbdLayouts() {
    }

    static List<ImageRef> imageSpecs(Pointer base, int count) {
        List<ImageRef> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long o = (long) i * IMAGE_SPEC_SIZE;
            out.add(new ImageRef(string(base, o), string(base, o + 8)));
        }
        return List.copyOf(out);
    }

    static LinkedImage linkedImageSpec(Pointer base, long o) {
        return new LinkedImage(base.getLong(o), string(base, o + 8), nullToEmpty(string(base, o + 16)),
                string(base, o + 24), string(base, o + 32), base.getByte(o + 40) != 0);
    }

    static List<LinkedImage> linkedImageSpecs(Pointer base, int count) {
        List<LinkedImage> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(linkedImageSpec(base, (long) i * LINKED_IMAGE_SPEC_SIZE));
        }
        return List.copyOf(out);
    }

    /** The raw snapshots of rbd_snap_list: id, size and name, without namespace. */
    record RawSnap(long id, long size, String name) {
    }

    static List<RawSnap> snapInfos(Pointer base, int count) {
        List<RawSnap> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long o = (long) i * SNAP_INFO_SIZE;
            out.add(new RawSnap(base.getLong(o), base.getLong(o + 8), string(base, o + 16)));
        }
        return out;
    }

    static List<Watcher> watchers(Pointer base, int count) {
        List<Watcher> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long o = (long) i * WATCHER_SIZE;
            out.add(new Watcher(string(base, o), base.getLong(o + 8), base.getLong(o + 16)));
        }
        return List.copyOf(out);
    }

    static List<TrashEntry> trashInfos(Pointer base, int count) {
        List<TrashEntry> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long o = (long) i * TRASH_INFO_SIZE;
            out.add(new TrashEntry(string(base, o), string(base, o + 8), TrashEntry.Source.of(base.getInt(o + 16)),
                    Instant.ofEpochSecond(base.getLong(o + 24)), Instant.ofEpochSecond(base.getLong(o + 32))));
        }
        return List.copyOf(out);
    }

    /** rbd_snap_spec_t at {@code base}: the parent snapshot of a clone. */
    static ParentRef.Snap snapSpec(Pointer base) {
        return new ParentRef.Snap(base.getLong(0), SnapshotNamespace.of(base.getInt(8)), nullToEmpty(string(base, 16)));
    }

    /** A NUL-terminated UTF-8 string whose pointer is stored at {@code base + offset}; null for NULL. */
    static String string(Pointer base, long offset) {
        Pointer p = base.getPointer(offset);
        return p == null ? null : p.getString(0, StandardCharsets.UTF_8.name());
    }

    /** The UTF-8 text in {@code buf} up to its first NUL. */
    static String cString(byte[] buf) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8);
    }

    static Optional<String> optional(String s) {
        return s == null || s.isEmpty() ? Optional.empty() : Optional.of(s);
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
