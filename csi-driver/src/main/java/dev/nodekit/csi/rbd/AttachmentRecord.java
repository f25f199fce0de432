package dev.nodekit.csi.rbd;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import dev.nodekit.common.fs.VersionedFormat;

/**
 * The node state of one attached image: {@code <dataDir>/rbd/attachments/<uuid>.json}. The state
 * is the attach/detach protocol: ATTACHING (mountpoint chosen; a daemon may run, a loop device may
 * exist) until the device is recorded, ATTACHED, DETACHING once a detach started. A restarted node
 * plugin tears down ATTACHING records (the stage that made them got no answer and is retried),
 * finishes DETACHING ones and checks, re-adopts or heals ATTACHED ones.
 *
 * @param volumeId     the volume id
 * @param clusterId    its cluster (for the credential file when healing)
 * @param monitors     the monitors the daemon was started with
 * @param pool         the image's pool
 * @param image        the image
 * @param mounter      {@code fuse} or {@code krbd}
 * @param readOnly     attached read-only
 * @param state        where the protocol is
 * @param device       {@code /dev/loopN} or {@code /dev/rbdN}; null until known
 * @param mountpoint   fuse: the rbd-fuse mountpoint (a directory holding the image file)
 * @param pid          fuse: the rbd-fuse daemon's pid; null until started
 * @param pidStartTime fuse: the daemon's start time in clock ticks after boot (guards against pid reuse)
 * @param stale        fuse: the daemon was restarted but the loop device, held open (mounted) and
 *                     writable, still reads through the dead one: unusable until unstaged
 */
record AttachmentRecord(String volumeId, String clusterId, String monitors, String pool, String image, String mounter,
        boolean readOnly, State state, String device, String mountpoint, Long pid, Long pidStartTime, boolean stale) {

    /** The protocol's states. */
    enum State { ATTACHING, ATTACHED, DETACHING }

    /** The node-state format; version 1 is the first. */
    static final VersionedFormat FORMAT = VersionedFormat.builder("rbd node attachment", 1).build();

    AttachmentRecord {
        Objects.requireNonNull(volumeId, "volumeId");
        Objects.requireNonNull(clusterId, "clusterId");
        Objects.requireNonNull(monitors, "monitors");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(mounter, "mounter");
        Objects.requireNonNull(state, "state");
        if (!mounter.equals("fuse") && !mounter.equals("krbd")) {
            throw new IllegalArgumentException("mounter must be fuse or krbd, got " + mounter);
        }
    }

    AttachmentRecord with(State s) {
        return new AttachmentRecord(volumeId, clusterId, monitors, pool, image, mounter, readOnly, s, device,
                mountpoint, pid, pidStartTime, stale);
    }

    AttachmentRecord withDevice(String d) {
        return new AttachmentRecord(volumeId, clusterId, monitors, pool, image, mounter, readOnly, state, d,
                mountpoint, pid, pidStartTime, stale);
    }

    AttachmentRecord withDaemon(long p, long startTime) {
        return new AttachmentRecord(volumeId, clusterId, monitors, pool, image, mounter, readOnly, state, device,
                mountpoint, p, startTime, stale);
    }

    AttachmentRecord withStale(boolean s) {
        return new AttachmentRecord(volumeId, clusterId, monitors, pool, image, mounter, readOnly, state, device,
                mountpoint, pid, pidStartTime, s);
    }

    /** What the SPI's Attachment carries besides the device: enough to find the pieces again. */
    Map<String, String> attachmentState() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("mounter", mounter);
        m.put("image", pool + "/" + image);
        if (mountpoint != null) {
            m.put("mountpoint", mountpoint);
        }
        if (pid != null) {
            m.put("pid", Long.toString(pid));
        }
        return m;
    }
}
