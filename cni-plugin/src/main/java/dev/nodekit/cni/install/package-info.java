/**
 * {@code nodekit cni install}: puts the CNI plugins on a node as the thin client of the daemon (with
 * the self-contained JVM launchers and their class-data archive as its fallback), optionally a systemd
 * unit for the daemon and a bundled JVM, and writes a conflist, its subnets given or read from the
 * node's {@code spec.podCIDRs} ({@link dev.nodekit.cni.install.NodePodCidrs}, fabric8, only loaded by
 * this command). See {@link dev.nodekit.cni.install.CniInstaller} for the layout, the archive and what
 * is never overwritten.
 */
package dev.nodekit.cni.install;
