package dev.nodekit.crishim;

import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

import dev.nodekit.common.grpc.UdsChannels;

/**
 * One runtime the shim forwards to ({@code upstreams[]} in the config file, or {@code --upstream},
 * which is named {@value #DEFAULT_NAME}).
 *
 * @param name     how routing rules, metrics and logs refer to it: a DNS label
 * @param endpoint its CRI socket, {@code unix:///run/containerd/containerd.sock}
 */
public record UpstreamConfig(String name, String endpoint) {
    /** The name of the upstream given with {@code --upstream}. */
    public static final String DEFAULT_NAME = "default";
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    public UpstreamConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(endpoint, "endpoint");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name: '" + name + "' must be a DNS label (a-z, 0-9, '-', at most 63)");
        }
        try {
            UdsChannels.socketPath(endpoint);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("endpoint: " + e.getMessage(), e);
        }
    }

    /** The socket path of {@link #endpoint()}. */
    public Path socket() {
        return UdsChannels.socketPath(endpoint);
    }
}
