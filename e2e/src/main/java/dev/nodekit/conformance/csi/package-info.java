/**
 * The CSI conformance suite: {@link dev.nodekit.conformance.csi.CsiSuites#all()} runs Identity,
 * Controller, snapshots (restores, clones), expansion, Node and the error scheme, in that order,
 * against a {@link dev.nodekit.conformance.csi.CsiTarget} (endpoints, staging/target dirs,
 * CreateVolume parameters, secrets, volume size, access type, fs type).
 *
 * <h2>How a check talks to a plugin</h2>
 * Every check builds its requests the way a CO does: the run's capability
 * ({@code CsiTarget.capability}), the run's parameters, the node's topology as requisite when the
 * plugin advertises VOLUME_ACCESSIBILITY_CONSTRAINTS, ControllerPublish before NodeStage when the
 * plugin advertises PUBLISH_UNPUBLISH_VOLUME, a staging path only when it advertises
 * STAGE_UNSTAGE_VOLUME, and the run's secrets on every request that has a {@code secrets} field.
 * Names are unique ({@code prefix-12 hex}). A {@code CsiResources} scope per check records what
 * was created and undoes it in reverse order whatever happened: unpublish, unstage,
 * controller-unpublish, delete snapshots and volumes, remove the directories the run made. The
 * negating call is registered before the call it negates (they are idempotent by the spec), so a
 * half-done publish is undone too. A mount the plugin leaves in a directory of the run is lazily
 * unmounted (so the host stays clean) and fails the check; the run never deletes through a mount.
 *
 * <h2>Real mounts</h2>
 * Node lifecycle checks declare {@code Requirement.ROOT} (block ones also LOOP_DEVICES): the
 * plugin mounts, the check looks at {@code /proc/self/mountinfo} and at the files and devices
 * themselves, so it must run in the plugin's mount namespace. Staging paths are directories the run
 * creates; publish targets are {@code <unique parent>/target}, which the plugin must create and,
 * at NodeUnpublish, remove. Data proofs write random 4 KiB markers (a file on mount volumes, a
 * block at a slot on block volumes) and look for them after snapshot/restore/clone/expansion. A
 * snapshot or clone is cut while the source is unpublished and unstaged, so the proof does not
 * depend on the plugin's freeze/flush story; Kubernetes allows in-use snapshots, but their
 * consistency is crash-consistency and not something a deterministic check can assert.
 *
 * <h2>Rules every check follows</h2>
 * <ul>
 *   <li>Capabilities gate: a check whose RPC is not advertised is SKIP with the capability's name
 *       ("controller does not advertise LIST_VOLUMES"), like csi-sanity.</li>
 *   <li>Every expected error is also checked for the CSI error scheme: a non-empty message and
 *       empty {@code details}; {@code csi.errors.well-formed} has that rule to itself.</li>
 *   <li>"Does not exist" inputs are ids of objects the check created and deleted: well formed for
 *       the plugin, so a plugin that validates id syntax cannot answer INVALID_ARGUMENT instead.</li>
 *   <li>Idempotency is checked twice: repeated sequentially (3 times) and 8 identical calls at
 *       once, where each answer must be OK with the same result or ABORTED, and a later call must
 *       settle to OK; duplicates are looked for in ListVolumes / ListSnapshots when advertised.</li>
 *   <li>Pagination: {@code max_entries} bounds every page, {@code next_token} is set while entries
 *       remain, a walk returns each volume once, a bad token is ABORTED, a negative max_entries is
 *       INVALID_ARGUMENT, a volume created (or the last one of a page deleted) between pages does
 *       not break the walk.</li>
 * </ul>
 *
 * <h2>Where the spec allows more than one answer</h2>
 * limit_bytes below required_bytes: OUT_OF_RANGE or INVALID_ARGUMENT. A restore or clone larger
 * than its source: OK at the requested size (and, with real mounts, the workload sees the larger
 * filesystem or device) or OUT_OF_RANGE. ControllerModifyVolume of an unknown volume: NOT_FOUND, or
 * INVALID_ARGUMENT for the probe parameter. ControllerUnpublish cleanup tolerates NOT_FOUND.
 * Beyond the spec's letter: {@code csi.node.stage-mounts} expects a staged mount volume to be
 * mounted at the staging path (the spec says the volume MAY be staged there; kubelet and nodekit
 * rely on it; csi-driver-host-path, which stages nothing, fails this one check);
 * SINGLE_NODE_WRITER volumes are not refused a second target (the spec's table says SHOULD, but
 * Kubernetes publishes RWO volumes to several pods of a node), only SINGLE_NODE_SINGLE_WRITER ones.
 * A read-only block publish is checked for the {@code ro} mount flag only: the kernel lets a
 * process open a device node for writing through a read-only mount.
 *
 * <h2>csi-sanity's groups and the ids that cover them</h2>
 * <ul>
 *   <li>Identity: {@code csi.identity.*}.</li>
 *   <li>Controller Service: ControllerGetCapabilities {@code csi.controller.capabilities-valid};
 *       GetCapacity {@code csi.controller.get-capacity}; ListVolumes {@code csi.controller.list-volumes*};
 *       CreateVolume {@code csi.controller.create-volume*}, {@code csi.snapshot.restore*},
 *       {@code csi.clone.*}; DeleteVolume {@code csi.controller.delete-volume.*};
 *       ValidateVolumeCapabilities {@code csi.controller.validate-capabilities*};
 *       Controller(Un)Publish and the volume lifecycle {@code csi.controller.publish.*},
 *       {@code csi.controller.unpublish.*}; ModifyVolume {@code csi.controller.modify-volume.*}.</li>
 *   <li>ListSnapshots / CreateSnapshot / DeleteSnapshot: {@code csi.snapshot.list*},
 *       {@code csi.snapshot.create*}, {@code csi.snapshot.delete.*} (and GetSnapshot
 *       {@code csi.snapshot.get*}).</li>
 *   <li>ExpandVolume: {@code csi.expansion.controller.*}.</li>
 *   <li>Node Service: NodeGetCapabilities / NodeGetInfo {@code csi.node.capabilities-valid},
 *       {@code csi.node.get-info}; argument specs {@code csi.node.*.missing-*}; "should remove
 *       target path" {@code csi.node.unpublish-removes-target}; NodeGetVolumeStats
 *       {@code csi.node.volume-stats*}; NodeExpandVolume {@code csi.expansion.node.*}; the full
 *       lifecycle, once and repeated, {@code csi.node.publish-mounts}, {@code csi.node.*.idempotent}.</li>
 * </ul>
 * GroupController (volume group snapshots) is not covered.
 *
 * <h2>Assumptions</h2>
 * The plugin is dedicated to the run: the concurrency checks compare ListVolumes before and after,
 * so another client creating volumes at the same time would be reported as a duplicate.
 */
package dev.nodekit.conformance.csi;
