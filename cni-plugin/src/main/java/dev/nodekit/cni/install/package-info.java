/**
 * {@code nodekit cni install}: puts the CNI plugins on a node as self-contained launchers with a
 * class-data archive, and writes a conflist. See {@link dev.nodekit.cni.install.CniInstaller} for the
 * launcher layout, the archive and what is never overwritten.
 */
package dev.nodekit.cni.install;
