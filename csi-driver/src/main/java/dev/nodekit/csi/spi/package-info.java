/**
 * The storage backend SPI: what a storage system must provide for nodekit's CSI driver, in plain
 * records and a checked exception family, with no gRPC or CSI types (ceph-csi's lesson: protocol
 * types leaking into the storage layer take years to undo).
 *
 * <p>{@link dev.nodekit.csi.spi.StorageBackend} is the interface; {@link dev.nodekit.csi.spi.ObjectId}
 * the versioned id codec (backend, cluster, pool, UUID; at most 128 bytes) validated before any
 * path or command is built from an id; {@link dev.nodekit.csi.spi.StorageException} the failures,
 * each of which the service layer maps to one gRPC code.
 */
package dev.nodekit.csi.spi;
