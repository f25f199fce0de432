package dev.nodekit.conformance.csi;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

import dev.nodekit.conformance.csi.FakePlugin.Defect;

/**
 * For every CSI check beyond Identity (which {@link CsiIdentityChecksTest} covers), the one defect
 * that must make it FAIL and a piece of the failure reason that proves it failed for that defect.
 * {@link #UNIT} are checks without host requirements ({@link CsiChecksDefectTest}); {@link #ROOT}
 * need real mounts ({@link CsiChecksDefectIT}).
 */
final class CsiDefects {
    /** A defect and the reason fragment it must produce. */
    record Case(Consumer<FakePlugin> inject, String reason) {
    }

    static final Map<String, Case> UNIT = new LinkedHashMap<>();
    static final Map<String, Case> ROOT = new LinkedHashMap<>();

    private CsiDefects() {
    }

    private static void unit(String id, Defect d, String reason) {
        UNIT.put(id, new Case(f -> f.defects.add(d), reason));
    }

    /** A missing-argument check: the fake stops validating {@code key}. */
    private static void unvalidated(String id, String key) {
        UNIT.put(id, new Case(f -> f.unvalidated.add(key), "expected INVALID_ARGUMENT"));
    }

    private static void root(String id, Defect d, String reason) {
        ROOT.put(id, new Case(f -> f.defects.add(d), reason));
    }

    static {
        // controller
        unit("csi.controller.capabilities-valid", Defect.DUPLICATE_CONTROLLER_CAPABILITY, "repeats CREATE_DELETE_VOLUME");
        unit("csi.controller.get-capacity", Defect.NEGATIVE_AVAILABLE_CAPACITY, "available_capacity -1 is negative");
        unvalidated("csi.controller.create-volume.missing-name", "CreateVolume.name");
        unvalidated("csi.controller.create-volume.missing-capabilities", "CreateVolume.volume_capabilities");
        unvalidated("csi.controller.create-volume.missing-access-mode", "CreateVolume.access_mode");
        unvalidated("csi.controller.create-volume.missing-access-type", "CreateVolume.access_type");
        UNIT.put("csi.controller.create-volume.negative-capacity",
                new Case(f -> f.unvalidated.add("CreateVolume.capacity_range"), "required_bytes=-1"));
        unit("csi.controller.create-volume", Defect.CAPACITY_BELOW_REQUIRED, "but capacity_bytes=");
        unit("csi.controller.create-volume.max-length-name", Defect.REJECT_LONG_NAMES, "expected OK, got INVALID_ARGUMENT");
        unit("csi.controller.create-volume.idempotent", Defect.CREATE_NOT_IDEMPOTENT, "CreateVolume repeat 1");
        unit("csi.controller.create-volume.concurrent", Defect.CREATE_RACE, "a duplicate volume");
        unit("csi.controller.create-volume.same-name-different-size", Defect.CREATE_IGNORES_SIZE_CONFLICT,
                "expected ALREADY_EXISTS but the call succeeded");
        unit("csi.controller.create-volume.same-name-different-source", Defect.CREATE_IGNORES_SOURCE_CONFLICT,
                "expected ALREADY_EXISTS but the call succeeded");
        unit("csi.controller.create-volume.limit-below-required", Defect.IGNORE_LIMIT,
                "expected one of [INVALID_ARGUMENT, OUT_OF_RANGE] but the call succeeded");
        unit("csi.controller.create-volume.capacity-bounds", Defect.NO_MAX_SIZE_ENFORCED, "(maximum_volume_size + 1)");
        unit("csi.controller.create-volume.topology", Defect.WRONG_TOPOLOGY, "accessible only from");
        unvalidated("csi.controller.delete-volume.missing-volume-id", "DeleteVolume.volume_id");
        unit("csi.controller.delete-volume.unknown-id", Defect.DELETE_UNKNOWN_NOT_FOUND, "expected OK, got NOT_FOUND");
        unit("csi.controller.delete-volume.idempotent", Defect.DELETE_KEEPS_VOLUME,
                "ValidateVolumeCapabilities of deleted volume");
        unvalidated("csi.controller.validate-capabilities.missing-volume-id", "ValidateVolumeCapabilities.volume_id");
        unvalidated("csi.controller.validate-capabilities.missing-capabilities",
                "ValidateVolumeCapabilities.volume_capabilities");
        unit("csi.controller.validate-capabilities", Defect.VALIDATE_NEVER_CONFIRMS, "it is not confirmed");
        unit("csi.controller.validate-capabilities.unknown-volume", Defect.VALIDATE_UNKNOWN_OK,
                "expected NOT_FOUND but the call succeeded");
        unit("csi.controller.list-volumes", Defect.LIST_SHOWS_DELETED, "is still listed");
        unit("csi.controller.list-volumes.pagination", Defect.LIST_IGNORES_MAX_ENTRIES, "ListVolumes(max_entries=2) returned");
        unit("csi.controller.list-volumes.bad-token", Defect.BAD_TOKEN_RESTARTS, "expected ABORTED but the call succeeded");
        unvalidated("csi.controller.list-volumes.negative-max-entries", "ListVolumes.max_entries");
        unit("csi.controller.list-volumes.changes-between-pages", Defect.TOKEN_NEEDS_EXISTING_ENTRY,
                "expected OK, got ABORTED");
        unvalidated("csi.controller.get-volume.missing-volume-id", "ControllerGetVolume.volume_id");
        unit("csi.controller.get-volume", Defect.GET_VOLUME_NO_CONDITION, "has no status.volume_condition");
        unit("csi.controller.get-volume.unknown-volume", Defect.GET_VOLUME_UNKNOWN_INTERNAL,
                "expected NOT_FOUND, got INTERNAL");
        unvalidated("csi.controller.publish.missing-volume-id", "ControllerPublishVolume.volume_id");
        unvalidated("csi.controller.publish.missing-node-id", "ControllerPublishVolume.node_id");
        unvalidated("csi.controller.publish.missing-capability", "ControllerPublishVolume.volume_capability");
        unvalidated("csi.controller.unpublish.missing-volume-id", "ControllerUnpublishVolume.volume_id");
        unit("csi.controller.publish.unknown-volume", Defect.CPUBLISH_UNKNOWN_VOLUME_OK,
                "expected NOT_FOUND but the call succeeded");
        unit("csi.controller.publish.unknown-node", Defect.CPUBLISH_ANY_NODE, "expected NOT_FOUND but the call succeeded");
        unit("csi.controller.publish.idempotent", Defect.CPUBLISH_NOT_IDEMPOTENT, "expected OK, got FAILED_PRECONDITION");
        unit("csi.controller.publish.incompatible", Defect.CPUBLISH_IGNORES_READONLY,
                "expected ALREADY_EXISTS but the call succeeded");
        unit("csi.controller.unpublish.not-published", Defect.CUNPUBLISH_NOT_PUBLISHED_NOT_FOUND,
                "expected OK, got NOT_FOUND");
        unvalidated("csi.controller.modify-volume.missing-volume-id", "ControllerModifyVolume.volume_id");
        unvalidated("csi.controller.modify-volume.missing-parameters", "ControllerModifyVolume.mutable_parameters");
        unit("csi.controller.modify-volume.unknown-volume", Defect.MODIFY_UNKNOWN_OK, "but the call succeeded");
        unit("csi.controller.modify-volume.unsupported-parameter", Defect.MODIFY_ACCEPTS_ANY,
                "expected INVALID_ARGUMENT but the call succeeded");
        // snapshots, restores, clones
        unvalidated("csi.snapshot.create.missing-name", "CreateSnapshot.name");
        unvalidated("csi.snapshot.create.missing-source-volume-id", "CreateSnapshot.source_volume_id");
        unit("csi.snapshot.create", Defect.SNAPSHOT_NO_CREATION_TIME, "creation_time is not set");
        unit("csi.snapshot.create.max-length-name", Defect.REJECT_LONG_NAMES, "expected OK, got INVALID_ARGUMENT");
        unit("csi.snapshot.create.idempotent", Defect.SNAPSHOT_NOT_IDEMPOTENT, "snapshot_id of repeat 1");
        unit("csi.snapshot.create.concurrent", Defect.SNAPSHOT_RACE, "a duplicate");
        unit("csi.snapshot.create.same-name-different-source", Defect.SNAPSHOT_IGNORES_SOURCE_CONFLICT,
                "expected ALREADY_EXISTS but the call succeeded");
        unit("csi.snapshot.create.unknown-source", Defect.SNAPSHOT_UNKNOWN_SOURCE_INTERNAL,
                "expected NOT_FOUND, got INTERNAL");
        unvalidated("csi.snapshot.delete.missing-snapshot-id", "DeleteSnapshot.snapshot_id");
        unit("csi.snapshot.delete.unknown-id", Defect.DELETE_SNAPSHOT_UNKNOWN_NOT_FOUND, "expected OK, got NOT_FOUND");
        unit("csi.snapshot.delete.idempotent", Defect.DELETE_SNAPSHOT_KEEPS, "is still listed");
        unit("csi.snapshot.list", Defect.LIST_SNAPSHOTS_NO_SOURCE, "has no source_volume_id");
        unit("csi.snapshot.list.filter-snapshot-id", Defect.LIST_SNAPSHOTS_IGNORES_ID_FILTER,
                "ListSnapshots(snapshot_id=");
        unit("csi.snapshot.list.filter-source-volume", Defect.LIST_SNAPSHOTS_IGNORES_SOURCE_FILTER,
                "ListSnapshots(source_volume_id=");
        unit("csi.snapshot.list.unknown-filters", Defect.LIST_SNAPSHOTS_UNKNOWN_FILTER_NOT_FOUND,
                "expected OK, got NOT_FOUND");
        unit("csi.snapshot.list.pagination", Defect.LIST_SNAPSHOTS_NO_NEXT_TOKEN, "missed");
        unit("csi.snapshot.list.bad-token", Defect.BAD_TOKEN_RESTARTS, "expected ABORTED but the call succeeded");
        unvalidated("csi.snapshot.list.negative-max-entries", "ListSnapshots.max_entries");
        unvalidated("csi.snapshot.get.missing-snapshot-id", "GetSnapshot.snapshot_id");
        unit("csi.snapshot.get", Defect.GET_SNAPSHOT_WRONG_SOURCE, "GetSnapshot: source_volume_id");
        unit("csi.snapshot.get.unknown-id", Defect.GET_SNAPSHOT_UNKNOWN_INTERNAL, "expected NOT_FOUND, got INTERNAL");
        unit("csi.snapshot.restore", Defect.RESTORE_WRONG_CONTENT_SOURCE, "reports content_source");
        unit("csi.snapshot.restore.unknown-snapshot", Defect.RESTORE_UNKNOWN_SNAPSHOT_EMPTY,
                "expected NOT_FOUND but the call succeeded");
        unit("csi.snapshot.restore.smaller-than-snapshot", Defect.RESTORE_ALLOWS_SMALLER,
                "expected OUT_OF_RANGE but the call succeeded");
        unit("csi.snapshot.restore.larger", Defect.RESTORE_LARGER_SILENTLY_SMALLER, "answered OK with capacity_bytes");
        unit("csi.clone.create", Defect.CLONE_CAPACITY_SMALLER, "smaller than the source's");
        unit("csi.clone.unknown-source", Defect.CLONE_UNKNOWN_SOURCE_EMPTY, "expected NOT_FOUND but the call succeeded");
        unit("csi.clone.smaller-than-source", Defect.CLONE_ALLOWS_SMALLER, "expected OUT_OF_RANGE but the call succeeded");
        // expansion
        unvalidated("csi.expansion.controller.missing-volume-id", "ControllerExpandVolume.volume_id");
        unvalidated("csi.expansion.controller.missing-capacity-range", "ControllerExpandVolume.capacity_range");
        unit("csi.expansion.controller.expand", Defect.EXPAND_NO_NODE_EXPANSION, "node_expansion_required is false");
        unit("csi.expansion.controller.idempotent", Defect.EXPAND_SHRINKS, "volumes never shrink");
        unit("csi.expansion.controller.unknown-volume", Defect.EXPAND_UNKNOWN_OK, "expected NOT_FOUND but the call");
        unit("csi.expansion.controller.limit-below-required", Defect.EXPAND_IGNORES_LIMIT,
                "expected one of [INVALID_ARGUMENT, OUT_OF_RANGE] but the call succeeded");
        unit("csi.expansion.controller.beyond-maximum", Defect.NO_MAX_SIZE_ENFORCED,
                "expected OUT_OF_RANGE but the call succeeded");
        unvalidated("csi.expansion.node.missing-volume-id", "NodeExpandVolume.volume_id");
        unvalidated("csi.expansion.node.missing-volume-path", "NodeExpandVolume.volume_path");
        unit("csi.expansion.node.unknown-volume", Defect.NODE_UNKNOWN_VOLUME_INTERNAL, "expected NOT_FOUND, got INTERNAL");
        // node
        unit("csi.node.capabilities-valid", Defect.DUPLICATE_NODE_CAPABILITY, "repeats");
        unit("csi.node.get-info", Defect.NODE_ID_TOO_LONG, "node_id is 300 bytes");
        unvalidated("csi.node.stage.missing-volume-id", "NodeStageVolume.volume_id");
        unvalidated("csi.node.stage.missing-staging-path", "NodeStageVolume.staging_target_path");
        unvalidated("csi.node.stage.missing-capability", "NodeStageVolume.volume_capability");
        unvalidated("csi.node.unstage.missing-volume-id", "NodeUnstageVolume.volume_id");
        unvalidated("csi.node.unstage.missing-staging-path", "NodeUnstageVolume.staging_target_path");
        unvalidated("csi.node.publish.missing-volume-id", "NodePublishVolume.volume_id");
        unvalidated("csi.node.publish.missing-target-path", "NodePublishVolume.target_path");
        unvalidated("csi.node.publish.missing-capability", "NodePublishVolume.volume_capability");
        unvalidated("csi.node.unpublish.missing-volume-id", "NodeUnpublishVolume.volume_id");
        unvalidated("csi.node.unpublish.missing-target-path", "NodeUnpublishVolume.target_path");
        unvalidated("csi.node.volume-stats.missing-volume-id", "NodeGetVolumeStats.volume_id");
        unvalidated("csi.node.volume-stats.missing-volume-path", "NodeGetVolumeStats.volume_path");
        unit("csi.node.publish.missing-staging-path", Defect.PUBLISH_WITHOUT_STAGING_OK, "expected FAILED_PRECONDITION");
        unit("csi.node.stage.unknown-volume", Defect.NODE_UNKNOWN_VOLUME_INTERNAL, "expected NOT_FOUND, got INTERNAL");
        unit("csi.node.publish.unknown-volume", Defect.NODE_UNKNOWN_VOLUME_INTERNAL, "expected NOT_FOUND, got INTERNAL");
        unit("csi.node.unpublish.not-published", Defect.UNPUBLISH_NOT_PUBLISHED_NOT_FOUND, "expected OK, got NOT_FOUND");
        unit("csi.node.unstage.not-staged", Defect.UNSTAGE_NOT_STAGED_NOT_FOUND, "expected OK, got NOT_FOUND");
        unit("csi.node.volume-stats.unknown-volume", Defect.NODE_UNKNOWN_VOLUME_INTERNAL,
                "expected NOT_FOUND, got INTERNAL");
        // the error scheme
        unit("csi.errors.well-formed", Defect.ERROR_DETAILS, "status detail");

        // with real mounts
        root("csi.snapshot.restore.data", Defect.SNAPSHOT_WITHOUT_DATA, "lacks the data written before the snapshot");
        root("csi.snapshot.restore.larger-data", Defect.RESTORE_DOES_NOT_GROW_FS, "filesystem not grown");
        root("csi.clone.data", Defect.CLONE_SHARES_SOURCE, "has data written to the source after cloning");
        root("csi.expansion.node.expand", Defect.NODE_EXPAND_NOOP, "the filesystem did not grow");
        root("csi.node.stage-mounts", Defect.STAGE_WITHOUT_MOUNT, "nothing is mounted at the staging path");
        root("csi.node.publish-mounts", Defect.PUBLISH_MKDIR_ONLY, "but nothing is mounted at");
        root("csi.node.publish-shares-staging", Defect.PUBLISH_BINDS_WRONG_DIR,
                "is not visible through the staging path");
        root("csi.node.publish-readonly", Defect.IGNORE_READONLY, "the readonly target");
        root("csi.node.unpublish-removes-target", Defect.LEAVE_TARGET_DIR, "still exists after NodeUnpublishVolume");
        root("csi.node.unstage-unmounts", Defect.UNSTAGE_KEEPS_MOUNT, "is still mounted under the staging path");
        root("csi.node.stage.idempotent", Defect.STAGE_STACKS_MOUNTS, "after repeated NodeStageVolume there are");
        root("csi.node.publish.idempotent", Defect.PUBLISH_STACKS_MOUNTS, "after repeated NodePublishVolume there are");
        root("csi.node.unpublish.idempotent", Defect.UNPUBLISH_SECOND_CALL_FAILS, "expected OK, got INTERNAL");
        root("csi.node.unstage.idempotent", Defect.UNSTAGE_SECOND_CALL_FAILS, "expected OK, got INTERNAL");
        root("csi.node.publish.different-args", Defect.PUBLISH_IGNORES_ARG_CHANGE,
                "expected ALREADY_EXISTS but the call succeeded");
        root("csi.node.publish.single-writer-second-target", Defect.SINGLE_WRITER_ALLOWS_SECOND,
                "expected FAILED_PRECONDITION but the call succeeded");
        root("csi.node.publish.multi-writer-second-target", Defect.MULTI_WRITER_REFUSES_SECOND,
                "expected OK, got FAILED_PRECONDITION");
        root("csi.node.volume-stats", Defect.STATIC_STATS, "used went from");
        root("csi.node.volume-stats.unknown-path", Defect.STATS_ANY_PATH, "expected NOT_FOUND but the call succeeded");
        root("csi.node.volume-condition", Defect.NO_VOLUME_CONDITION, "has no volume_condition");
        root("csi.node.block.publish", Defect.BLOCK_TARGET_NOT_DEVICE, "is not a block device");
        root("csi.node.block.volume-stats", Defect.BLOCK_STATS_ZERO, "reports total 0");
    }
}
