package dev.nodekit.csi.local;

import java.time.Instant;
import java.util.Objects;

import dev.nodekit.common.fs.VersionedFormat;

/**
 * {@code backend.json}: which node a data dir belongs to. Ids carry the node id, so opening the
 * data dir under another node id would make every existing volume unreachable: refused.
 *
 * @param nodeId  the node id the data dir was created with
 * @param created when, ISO-8601
 */
record DataDirMarker(String nodeId, String created) {
    static final VersionedFormat FORMAT = VersionedFormat.builder("local backend data dir", 1).build();

    DataDirMarker {
        Objects.requireNonNull(nodeId, "nodeId");
        Instant.parse(Objects.requireNonNull(created, "created"));
    }
}
