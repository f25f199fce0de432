/** The {@code nodekit-host-local} plugin: {@link dev.nodekit.cni.ipam.HostLocalIpam} behind the CNI protocol. */
package dev.nodekit.cni.hostlocal;
