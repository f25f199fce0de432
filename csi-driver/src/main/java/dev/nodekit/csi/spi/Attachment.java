package dev.nodekit.csi.spi;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * An image attached to this node as a block device ({@code /dev/loopN}), with the backend's own
 * state needed to detach or re-adopt it after a restart (a fuse daemon's pid, a backing file).
 */
public record Attachment(ObjectId image, Path device, boolean readOnly, Map<String, String> state) {
    public Attachment {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(device, "device");
        state = Map.copyOf(state);
    }
}
