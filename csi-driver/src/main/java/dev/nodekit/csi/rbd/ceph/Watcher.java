package dev.nodekit.csi.rbd.ceph;

import java.util.Objects;

/**
 * A client watching an image's header: it has the image open (attached through rbd-fuse, mapped
 * with krbd, or a librbd user). An image with watchers is in use.
 *
 * @param address  the client's address ({@code 127.0.0.1:0/123456})
 * @param clientId the client's global id ({@code client.N})
 * @param cookie   the watch cookie
 */
public record Watcher(String address, long clientId, long cookie) {
    /** Checks the fields. */
    public Watcher {
        Objects.requireNonNull(address, "address");
    }
}
