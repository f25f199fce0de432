/**
 * The CSI driver: one class per CSI service ({@code CsiIdentityService}, and with the driver issue
 * {@code CsiControllerService}, {@code CsiNodeService}), each calling a storage backend through
 * the {@code spi} package. Conversion between CSI messages and backend records happens only here.
 */
package dev.nodekit.csi;
