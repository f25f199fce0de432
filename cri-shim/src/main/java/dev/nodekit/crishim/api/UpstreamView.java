package dev.nodekit.crishim.api;

/** A runtime the shim forwards to, as interceptors may see it (for health metrics, say). */
public interface UpstreamView {
    /** The name in the config ({@code default} when there is one upstream from {@code --upstream}). */
    String name();

    /** {@code unix:///run/containerd/containerd.sock}. */
    String endpoint();

    /** Whether the shim's connection to it is up right now (cheap; no call is made). */
    boolean isUp();
}
