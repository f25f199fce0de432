package dev.nodekit.csi.rbd;

import java.util.Locale;

/** How the node attaches an image as a block device (the StorageClass parameter {@code mounter}). */
enum Mounter {
    /** The kernel RBD client: {@code rbd map}, a {@code /dev/rbdN}. */
    KRBD("krbd"),
    /** {@code rbd-fuse -r IMAGE} exposing the image as a file, on a loop device. */
    FUSE("fuse");

    final String parameterValue;

    Mounter(String parameterValue) {
        this.parameterValue = parameterValue;
    }

    static Mounter parse(String text) {
        for (Mounter m : values()) {
            if (m.parameterValue.equals(text.strip().toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new IllegalArgumentException("parameters.mounter '" + text + "' must be krbd or fuse");
    }
}
