package dev.nodekit.common.grpc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/** A gRPC server could not start on its unix socket: the path is taken, not a socket, or cannot be bound. */
public final class UdsServerException extends IOException {
    private static final long serialVersionUID = 1L;
    private final transient Path socketPath;

    public UdsServerException(Path socketPath, String reason) {
        this(socketPath, reason, null);
    }

    public UdsServerException(Path socketPath, String reason, Throwable cause) {
        super("cannot serve gRPC on " + socketPath + ": " + reason, cause);
        this.socketPath = Objects.requireNonNull(socketPath, "socketPath");
    }

    /** The socket the server was to listen on. */
    public Path socketPath() {
        return socketPath;
    }
}
