package dev.nodekit.cni.ipam;

import java.util.Optional;

import dev.nodekit.cni.net.IpAddress;

/**
 * One allocation file of a host-local directory: the address it is named by and the owner its
 * content records ({@code "<containerID>\r\n<ifname>"}, or only the container id in files written by
 * host-local before it recorded interfaces). A file whose content is neither (empty, binary, too
 * long, a symlink or a directory) has no owner: its address stays taken and only GC releases it.
 *
 * @param ip          the address (the file name)
 * @param containerId the owning container, when the content names one
 * @param ifName      the owning interface, absent in the older id-only format
 */
public record Allocation(IpAddress ip, Optional<String> containerId, Optional<String> ifName) {

    /** Whether the content named no owner. */
    public boolean isOwnerless() {
        return containerId.isEmpty();
    }

    /** Whether the file records exactly this owner (host-local's primary match). */
    public boolean isOwnedBy(String id, String ifname) {
        return containerId.isPresent() && ifName.isPresent() && containerId.get().equals(id.strip())
                && ifName.get().equals(ifname);
    }

    /** Whether the file is in the id-only format and names {@code id} (host-local's fallback match). */
    public boolean isLegacyOwnedBy(String id) {
        return containerId.isPresent() && ifName.isEmpty() && containerId.get().equals(id.strip());
    }

    /**
     * Reads an owner from file content the way host-local compares it: trimmed, then
     * {@code id\r\nifname} or a bare id. Returns an ownerless allocation for anything else.
     */
    static Allocation parse(IpAddress ip, String content) {
        String c = content.strip();
        int crlf = c.indexOf("\r\n");
        if (crlf > 0) {
            String id = c.substring(0, crlf);
            String ifname = c.substring(crlf + 2);
            if (isPrintableToken(id) && isPrintableToken(ifname)) {
                return new Allocation(ip, Optional.of(id), Optional.of(ifname));
            }
        } else if (crlf < 0 && isPrintableToken(c)) {
            return new Allocation(ip, Optional.of(c), Optional.empty());
        }
        return new Allocation(ip, Optional.empty(), Optional.empty());
    }

    private static boolean isPrintableToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        if (containerId.isEmpty()) {
            return ip + "=(no owner)";
        }
        return ip + "=" + containerId.get() + (ifName.isPresent() ? "/" + ifName.get() : "");
    }
}
