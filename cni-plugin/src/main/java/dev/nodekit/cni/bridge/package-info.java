/**
 * The {@code nodekit-bridge} plugin ({@link dev.nodekit.cni.bridge.BridgePlugin}): the Go bridge
 * plugin's configuration and behaviour (bridge, veth pair, gateway, default route, masquerade,
 * hairpin, promiscuous mode, VLANs, MAC capability, dual stack without waiting for DAD, CHECK against
 * prevResult, DEL that succeeds when things are gone) on execs of {@code ip} instead of netlink.
 *
 * <h2>Interoperability with the Go plugin</h2>
 * Its masquerade chains and comments are named as Go names them, so either plugin's DEL removes the
 * other's rules, and it works with any IPAM on {@code CNI_PATH} (the Go host-local included), while
 * the Go bridge works with {@code nodekit-host-local}. Differences, on purpose: the veth pair is
 * created with its peer directly in the pod's namespace and the MACs chosen up front (no read-back);
 * the bridge's MAC is pinned when nodekit creates it; DEL removes the masquerade chain even when
 * the netns is gone (Go leaves it); {@code macspoofchk} and the nftables backend are refused (code 2)
 * instead of ignored; GC removes masquerade chains of containers not in the valid list.
 */
package dev.nodekit.cni.bridge;
