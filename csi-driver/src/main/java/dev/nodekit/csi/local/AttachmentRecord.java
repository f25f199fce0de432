package dev.nodekit.csi.local;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

import dev.nodekit.common.fs.VersionedFormat;
import dev.nodekit.csi.spi.Attachment;
import dev.nodekit.csi.spi.InvalidIdException;
import dev.nodekit.csi.spi.ObjectId;

/**
 * Node state: one loop device this backend attached, in {@code node/attachments/<uuid>.json}, so a
 * restarted node plugin re-adopts it (or re-attaches the image when the kernel lost the device).
 *
 * @param image       the encoded image id
 * @param device      {@code /dev/loopN}
 * @param backingFile the image's data file, as {@code /sys/block/loopN/loop/backing_file} must show it
 * @param readOnly    attached with {@code --read-only}
 * @param attached    when, ISO-8601
 * @param detaching   a detach has started (the intent): a restart finishes it instead of re-attaching
 */
record AttachmentRecord(String image, String device, String backingFile, boolean readOnly, String attached,
        boolean detaching) {
    static final VersionedFormat FORMAT = VersionedFormat.builder("local backend attachment", 1).build();

    AttachmentRecord {
        try {
            ObjectId.parse(Objects.requireNonNull(image, "image"), ObjectId.Kind.VOLUME);
        } catch (InvalidIdException e) {
            throw new IllegalArgumentException("attachment record: " + e.getMessage(), e);
        }
        LoopDevices.checkDevice(Path.of(Objects.requireNonNull(device, "device")));
        if (!Path.of(Objects.requireNonNull(backingFile, "backingFile")).isAbsolute()) {
            throw new IllegalArgumentException("attachment record: backing file must be absolute");
        }
        Instant.parse(Objects.requireNonNull(attached, "attached"));
    }

    AttachmentRecord asDetaching() {
        return new AttachmentRecord(image, device, backingFile, readOnly, attached, true);
    }

    Path devicePath() {
        return Path.of(device);
    }

    Path backingPath() {
        return Path.of(backingFile);
    }

    ObjectId imageId() {
        try {
            return ObjectId.parse(image, ObjectId.Kind.VOLUME);
        } catch (InvalidIdException e) {
            throw new IllegalStateException(e);
        }
    }

    Attachment toAttachment() {
        return new Attachment(imageId(), devicePath(), readOnly, Map.of("backingFile", backingFile,
                "loop", LoopDevices.loopName(devicePath())));
    }
}
