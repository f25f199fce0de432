/**
 * {@code nodekit bench csi}: nodekit's CSI driver on the local backend, CreateVolume/DeleteVolume at
 * concurrency 1 and 8 and the full node cycle, against the reference figures of
 * csi-driver-host-path (which cannot be built here); see {@link dev.nodekit.bench.csi.CsiBenchCommand}.
 */
package dev.nodekit.bench.csi;
