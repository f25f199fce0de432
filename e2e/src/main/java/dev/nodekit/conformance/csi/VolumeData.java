package dev.nodekit.conformance.csi;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * Data a check writes into a published volume and later looks for in a snapshot, restore or clone:
 * a file on a mount volume, a 4 KiB block at the marker's slot on a block volume. Each marker is
 * random, so finding it proves the data really travelled.
 */
final class VolumeData {
    static final int BLOCK = 4096;

    private VolumeData() {
    }

    /** A named piece of data; {@code slot} is its 4 KiB block on block volumes. */
    record Marker(String name, int slot, byte[] data) {
        Marker {
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }
    }

    static Marker marker(String name, int slot) {
        return new Marker(name, slot, NodeIo.randomBytes(BLOCK));
    }

    /** Writes {@code m} through the published volume (fsynced). */
    static void write(CsiResources.Published p, Marker m) throws IOException {
        if (p.staged().block()) {
            NodeIo.writeBlock(p.target(), (long) m.slot() * BLOCK, m.data());
        } else {
            NodeIo.writeFile(file(p.target(), m), m.data());
        }
    }

    /** True when the published volume holds {@code m} exactly. */
    static boolean has(CsiResources.Published p, Marker m) throws IOException {
        if (p.staged().block()) {
            return Arrays.equals(NodeIo.readBlock(p.target(), (long) m.slot() * BLOCK, BLOCK), m.data());
        }
        Optional<byte[]> content = NodeIo.readFile(file(p.target(), m));
        return content.isPresent() && Arrays.equals(content.get(), m.data());
    }

    /** Writes {@code m} as a file into the mounted directory {@code dir}. */
    static void writeFile(Path dir, Marker m) throws IOException {
        NodeIo.writeFile(file(dir, m), m.data());
    }

    /** True when the mounted directory {@code dir} holds {@code m} as a file. */
    static boolean hasFile(Path dir, Marker m) throws IOException {
        Optional<byte[]> content = NodeIo.readFile(file(dir, m));
        return content.isPresent() && Arrays.equals(content.get(), m.data());
    }

    private static Path file(Path dir, Marker m) {
        return dir.resolve("csi-conformance-" + m.name());
    }

    /**
     * The size the workload sees: statvfs total bytes of a mount volume, the device size of a block volume.
     */
    static long visibleSize(CsiResources.Published p) throws IOException {
        return p.staged().block() ? NodeIo.blockDeviceSize(p.target()) : NodeIo.filesystemTotal(p.target());
    }
}
