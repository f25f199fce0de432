package dev.nodekit.csi;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Named crash points for the crash-safety tests: code calls {@link #hit(Point)} right after each
 * durable journal or file step, and a test that armed that point sees the JVM die there as if it
 * had been killed with {@code kill -9} ({@link Runtime#halt(int) halt(137)}: no shutdown hooks,
 * no finally blocks, no flush of anything not already written).
 *
 * <p>Arming is for tests only: the system property {@code nodekit.failpoints} or the environment
 * variable {@code NODEKIT_FAILPOINTS} holds a comma-separated list of point names (the property
 * wins). Both are read once, when this class is initialised. An unknown name fails the
 * initialisation, so a typo in a test cannot silently test nothing. When nothing is armed,
 * {@link #hit} tests one {@code static final} boolean, which the JIT folds away.
 *
 * <p>Every point of the project is listed in {@link Point}, in one place, so a crash test can
 * iterate them and prove each one is reached.
 */
public final class Failpoints {
    /** The system property that arms points. */
    public static final String PROPERTY = "nodekit.failpoints";
    /** The environment variable that arms points when the property is absent. */
    public static final String ENV = "NODEKIT_FAILPOINTS";
    /** The exit status of a JVM stopped at a failpoint: 128 + SIGKILL, like {@code kill -9}. */
    public static final int EXIT_STATUS = 137;

    /**
     * Every failpoint, named {@code <component>.<operation>.<step>}: the step that has just become
     * durable when the point is hit.
     */
    public enum Point {
        /** Local backend, create image: the RESERVED record (name to id) is durable; no data file yet. */
        LOCAL_CREATE_RESERVED("local.create.reserved"),
        /** Local backend, create image: the data file is complete and synced; the record still says RESERVED. */
        LOCAL_CREATE_FILE_WRITTEN("local.create.file-written"),
        /** Local backend, create image: the record says READY; the caller has not been answered. */
        LOCAL_CREATE_COMMITTED("local.create.committed"),
        /** Local backend, undo of an unfinished create (failed create, or reconcile): the data file is gone, the RESERVED record stays. */
        LOCAL_UNDO_FILE_REMOVED("local.undo.file-removed"),
        /** Local backend, undo of an unfinished create: the record is gone too. */
        LOCAL_UNDO_DONE("local.undo.done"),
        /** Local backend, delete image: the record says DELETING (the intent); the data file is still there. */
        LOCAL_DELETE_INTENT("local.delete.intent"),
        /** Local backend, delete image: the data file is gone; the DELETING record stays. */
        LOCAL_DELETE_FILE_REMOVED("local.delete.file-removed"),
        /** Local backend, delete image: the record is gone; the caller has not been answered. */
        LOCAL_DELETE_DONE("local.delete.done"),
        /** Local backend, resize: the data file has its new length; the record still has the old size. */
        LOCAL_RESIZE_FILE_GROWN("local.resize.file-grown"),
        /** Local backend, resize: the record has the new size; the caller has not been answered. */
        LOCAL_RESIZE_COMMITTED("local.resize.committed"),
        /** Local backend, create snapshot: the RESERVED record is durable; no snapshot file yet. */
        LOCAL_SNAPSHOT_RESERVED("local.snapshot.reserved"),
        /** Local backend, create snapshot: the snapshot file is complete, synced and read-only; the record says RESERVED. */
        LOCAL_SNAPSHOT_FILE_WRITTEN("local.snapshot.file-written"),
        /** Local backend, create snapshot: the record says READY; the caller has not been answered. */
        LOCAL_SNAPSHOT_COMMITTED("local.snapshot.committed"),
        /** Local backend, delete snapshot: the record says DELETING. */
        LOCAL_SNAPSHOT_DELETE_INTENT("local.snapshot-delete.intent"),
        /** Local backend, delete snapshot: the snapshot file is gone; the DELETING record stays. */
        LOCAL_SNAPSHOT_DELETE_FILE_REMOVED("local.snapshot-delete.file-removed"),
        /** Local backend, delete snapshot: the record is gone; the caller has not been answered. */
        LOCAL_SNAPSHOT_DELETE_DONE("local.snapshot-delete.done"),
        /** Local backend, attach: the loop device exists; the node-state record does not yet. */
        LOCAL_ATTACH_LOOP_ATTACHED("local.attach.loop-attached"),
        /** Local backend, attach: the node-state record is durable; the caller has not been answered. */
        LOCAL_ATTACH_RECORDED("local.attach.recorded"),
        /** Local backend, detach: the node-state record says DETACHING (the intent); the device is still attached. */
        LOCAL_DETACH_INTENT("local.detach.intent"),
        /** Local backend, detach: the loop device is detached; the DETACHING record stays. */
        LOCAL_DETACH_LOOP_DETACHED("local.detach.loop-detached"),
        /** Local backend, detach: the node-state record is gone; the caller has not been answered. */
        LOCAL_DETACH_DONE("local.detach.done"),
        /** RBD backend, create volume: the intent key (UUID for the name) is in the directory; no UUID object yet. */
        RBD_CREATE_INTENT("rbd.create.intent"),
        /** RBD backend, create volume: the UUID object exists (state reserved); the name is not bound yet. */
        RBD_CREATE_RESERVED("rbd.create.reserved"),
        /** RBD backend, create volume: the name key points at the UUID (intent dropped); no image yet. */
        RBD_CREATE_NAME_BOUND("rbd.create.name-bound"),
        /** RBD backend, clone volume: the temporary snapshot of the source exists; no clone yet. */
        RBD_CLONE_SOURCE_SNAPSHOTTED("rbd.clone.source-snapshotted"),
        /** RBD backend, create volume: the image (or clone) exists; the record still says reserved. */
        RBD_CREATE_IMAGE_CREATED("rbd.create.image-created"),
        /** RBD backend, clone volume: the temporary source snapshot is removed (kept in the trash namespace for the clone). */
        RBD_CLONE_SOURCE_SNAPSHOT_REMOVED("rbd.clone.source-snapshot-removed"),
        /** RBD backend, create volume from a source: the clone has grown to the requested size. */
        RBD_CREATE_RESIZED("rbd.create.resized"),
        /** RBD backend, create volume: the record says ready; the caller has not been answered. */
        RBD_CREATE_COMMITTED("rbd.create.committed"),
        /** RBD backend, delete volume: the image is removed (or in the RBD trash); the journal is intact. */
        RBD_DELETE_IMAGE_REMOVED("rbd.delete.image-removed"),
        /** RBD backend, delete volume: the name key is gone; the UUID object stays. */
        RBD_DELETE_NAME_RELEASED("rbd.delete.name-released"),
        /** RBD backend, delete volume: the UUID object is gone; the caller has not been answered. */
        RBD_DELETE_DONE("rbd.delete.done"),
        /** RBD backend, resize: the image has its new size; the record has the old one. */
        RBD_RESIZE_IMAGE_GROWN("rbd.resize.image-grown"),
        /** RBD backend, resize: the record has the new size; the caller has not been answered. */
        RBD_RESIZE_COMMITTED("rbd.resize.committed"),
        /** RBD backend, create snapshot: the intent key is in the snapshot directory. */
        RBD_SNAPSHOT_INTENT("rbd.snapshot.intent"),
        /** RBD backend, create snapshot: the UUID object exists (reserved); the name is not bound. */
        RBD_SNAPSHOT_RESERVED("rbd.snapshot.reserved"),
        /** RBD backend, create snapshot: the name key points at the UUID; nothing cut yet. */
        RBD_SNAPSHOT_NAME_BOUND("rbd.snapshot.name-bound"),
        /** RBD backend, create snapshot: the temporary snapshot of the source volume exists. */
        RBD_SNAPSHOT_SOURCE_SNAPSHOTTED("rbd.snapshot.source-snapshotted"),
        /** RBD backend, create snapshot: the snapshot image (a clone of the temporary snapshot) exists. */
        RBD_SNAPSHOT_CLONED("rbd.snapshot.cloned"),
        /** RBD backend, create snapshot: the source's temporary snapshot is removed (trash namespace). */
        RBD_SNAPSHOT_SOURCE_SNAPSHOT_REMOVED("rbd.snapshot.source-snapshot-removed"),
        /** RBD backend, create snapshot: the snapshot image has its own snapshot; the record says reserved. */
        RBD_SNAPSHOT_SNAPPED("rbd.snapshot.snapped"),
        /** RBD backend, create snapshot: the record says ready; the caller has not been answered. */
        RBD_SNAPSHOT_COMMITTED("rbd.snapshot.committed"),
        /** RBD backend, delete snapshot: the snapshot image's snapshot is removed. */
        RBD_SNAPSHOT_DELETE_SNAP_REMOVED("rbd.snapshot-delete.snap-removed"),
        /** RBD backend, delete snapshot: the snapshot image is removed (or in the trash). */
        RBD_SNAPSHOT_DELETE_IMAGE_REMOVED("rbd.snapshot-delete.image-removed"),
        /** RBD backend, delete snapshot: the name key is gone; the UUID object stays. */
        RBD_SNAPSHOT_DELETE_NAME_RELEASED("rbd.snapshot-delete.name-released"),
        /** RBD backend, delete snapshot: the UUID object is gone; the caller has not been answered. */
        RBD_SNAPSHOT_DELETE_DONE("rbd.snapshot-delete.done"),
        /** RBD node, attach: the node-state record says attaching (mountpoint chosen); no daemon yet. */
        RBD_ATTACH_INTENT("rbd.attach.intent"),
        /** RBD node, attach: rbd-fuse runs (pid recorded) and exposes the image file; no loop device yet. */
        RBD_ATTACH_FUSE_STARTED("rbd.attach.fuse-started"),
        /** RBD node, attach: the loop device is attached; the record does not name it yet. */
        RBD_ATTACH_LOOP_ATTACHED("rbd.attach.loop-attached"),
        /** RBD node, attach: the record says attached with its device; the caller has not been answered. */
        RBD_ATTACH_RECORDED("rbd.attach.recorded"),
        /** RBD node, detach: the record says detaching; nothing torn down yet. */
        RBD_DETACH_INTENT("rbd.detach.intent"),
        /** RBD node, detach: the loop device (or krbd mapping) is gone; rbd-fuse still runs. */
        RBD_DETACH_LOOP_DETACHED("rbd.detach.loop-detached"),
        /** RBD node, detach: rbd-fuse is unmounted and has exited; the record stays. */
        RBD_DETACH_FUSE_STOPPED("rbd.detach.fuse-stopped"),
        /** RBD node, detach: the record is gone; the caller has not been answered. */
        RBD_DETACH_DONE("rbd.detach.done");

        private final String id;

        Point(String id) {
            this.id = id;
        }

        /** The name used to arm this point. */
        public String id() {
            return id;
        }

        /** The point named {@code id}. */
        public static Point byId(String id) {
            for (Point p : values()) {
                if (p.id.equals(id)) {
                    return p;
                }
            }
            throw new IllegalArgumentException("unknown failpoint '" + id + "'; known: "
                    + Arrays.stream(values()).map(Point::id).toList());
        }

        @Override
        public String toString() {
            return id;
        }
    }

    private static final Set<Point> ARMED = parse(armedSetting());
    private static final boolean ANY_ARMED = !ARMED.isEmpty();

    private Failpoints() {
    }

    /** Stops the JVM with {@link #EXIT_STATUS} when {@code point} is armed; otherwise does nothing. */
    public static void hit(Point point) {
        if (ANY_ARMED && ARMED.contains(point)) {
            halt(point);
        }
    }

    /** The points armed in this JVM (empty in production). */
    public static Set<Point> armed() {
        return ARMED.isEmpty() ? Set.of() : EnumSet.copyOf(ARMED);
    }

    /** All points whose name starts with {@code prefix}, e.g. {@code "local."}, in declaration order. */
    public static List<Point> withPrefix(String prefix) {
        List<Point> out = new ArrayList<>();
        for (Point p : Point.values()) {
            if (p.id.startsWith(prefix)) {
                out.add(p);
            }
        }
        return out;
    }

    private static void halt(Point point) {
        // One line on stderr so the test can tell which point stopped the JVM; then no cleanup at all.
        System.err.println("failpoint " + point.id + " hit; halting with " + EXIT_STATUS);
        System.err.flush();
        Runtime.getRuntime().halt(EXIT_STATUS);
    }

    private static String armedSetting() {
        String prop = System.getProperty(PROPERTY);
        return prop != null ? prop : System.getenv(ENV);
    }

    static Set<Point> parse(String setting) {
        Set<Point> out = EnumSet.noneOf(Point.class);
        if (setting == null || setting.isBlank()) {
            return out;
        }
        for (String name : setting.split(",")) {
            String n = name.strip().toLowerCase(Locale.ROOT);
            if (!n.isEmpty()) {
                out.add(Point.byId(n));
            }
        }
        return out;
    }
}
