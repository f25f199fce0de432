/**
 * {@code nodekit bench csi}: nodekit's CSI driver on the local backend, CreateVolume/DeleteVolume at
 * concurrency 1 and 8 and the full node cycle, against the reference figures of
 * csi-driver-host-path (which cannot be built here); see {@link dev.nodekit.bench.csi.CsiBenchCommand}.
 *
 * <p>{@code nodekit bench csi-rbd}: the RBD backend's CreateVolume/DeleteVolume against the
 * {@code rbd} CLI's {@code create}/{@code rm}, interleaved in one run on a private memstore Ceph
 * fixture ({@code dev.nodekit.e2e.ceph}); see {@link dev.nodekit.bench.csi.CsiRbdBenchCommand}.
 */
package dev.nodekit.bench.csi;
