package dev.nodekit.csi.rbd.ceph;

import java.util.Objects;

/**
 * The answer of a successful monitor command.
 *
 * @param output the command's output (JSON when the command asked for {@code "format":"json"})
 * @param status the status text the monitor sent along (often empty)
 */
public record MonCommandResult(String output, String status) {
    /** Checks the fields. */
    public MonCommandResult {
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(status, "status");
    }
}
