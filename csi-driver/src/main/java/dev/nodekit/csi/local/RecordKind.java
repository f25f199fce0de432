package dev.nodekit.csi.local;

import dev.nodekit.csi.Failpoints.Point;
import dev.nodekit.csi.spi.ObjectId;

/** Image or snapshot, with the failpoints of each durable step of its create and delete. */
enum RecordKind {
    IMAGE(ObjectId.Kind.VOLUME, Point.LOCAL_CREATE_RESERVED, Point.LOCAL_CREATE_FILE_WRITTEN,
            Point.LOCAL_CREATE_COMMITTED, Point.LOCAL_DELETE_INTENT, Point.LOCAL_DELETE_FILE_REMOVED,
            Point.LOCAL_DELETE_DONE),
    SNAPSHOT(ObjectId.Kind.SNAPSHOT, Point.LOCAL_SNAPSHOT_RESERVED, Point.LOCAL_SNAPSHOT_FILE_WRITTEN,
            Point.LOCAL_SNAPSHOT_COMMITTED, Point.LOCAL_SNAPSHOT_DELETE_INTENT,
            Point.LOCAL_SNAPSHOT_DELETE_FILE_REMOVED, Point.LOCAL_SNAPSHOT_DELETE_DONE);

    final ObjectId.Kind idKind;
    final Point reserved;
    final Point fileWritten;
    final Point committed;
    final Point deleteIntent;
    final Point deleteFileRemoved;
    final Point deleteDone;

    RecordKind(ObjectId.Kind idKind, Point reserved, Point fileWritten, Point committed, Point deleteIntent,
            Point deleteFileRemoved, Point deleteDone) {
        this.idKind = idKind;
        this.reserved = reserved;
        this.fileWritten = fileWritten;
        this.committed = committed;
        this.deleteIntent = deleteIntent;
        this.deleteFileRemoved = deleteFileRemoved;
        this.deleteDone = deleteDone;
    }

    String noun() {
        return this == IMAGE ? "image" : "snapshot";
    }
}
