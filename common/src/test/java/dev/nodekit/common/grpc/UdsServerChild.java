package dev.nodekit.common.grpc;

import java.nio.file.Path;
import java.time.Duration;

import dev.nodekit.common.metrics.Metrics;

/**
 * A plugin-like program for {@link UdsServerShutdownTest}, run in a child JVM: serves
 * {@link TestServices.SlowIdentity} on a socket with the standard interceptors and the default
 * shutdown hook, prints {@code READY}, and waits until a signal shuts it down.
 * Arguments: socket path, grace in ms, longest Probe in ms. Probe ends early once the file
 * {@code <socket>.release} exists.
 */
public final class UdsServerChild {
    private UdsServerChild() {
    }

    /** The file whose creation ends the in-flight Probe. */
    static Path releaseFile(Path socket) {
        return socket.resolveSibling(socket.getFileName() + ".release");
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        Duration grace = Duration.ofMillis(Long.parseLong(args[1]));
        long probeMillis = Long.parseLong(args[2]);
        UdsServer server = UdsServer.builder(socket)
                .addService(new TestServices.SlowIdentity(probeMillis, releaseFile(socket)))
                .interceptors(StandardInterceptors.standard(Metrics.create(), InterceptorOptions.defaults()))
                .shutdownGrace(grace)
                .build()
                .start();
        System.out.println("READY");
        System.out.flush();
        server.awaitTermination();
    }
}
