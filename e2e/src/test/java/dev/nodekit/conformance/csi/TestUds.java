package dev.nodekit.conformance.csi;

import java.nio.file.Path;

import dev.nodekit.common.grpc.UdsServer;
import io.grpc.BindableService;

/** Serves services on a unix socket for tests, through the production {@link UdsServer}. */
final class TestUds {
    private TestUds() {
    }

    static UdsServer serve(Path socket, BindableService... services) throws Exception {
        UdsServer.Builder b = UdsServer.builder(socket).shutdownHook(false);
        for (BindableService s : services) {
            b.addService(s);
        }
        UdsServer server = b.build();
        server.start();
        return server;
    }
}
