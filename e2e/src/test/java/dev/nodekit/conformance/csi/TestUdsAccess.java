package dev.nodekit.conformance.csi;

import java.nio.file.Path;

import io.grpc.BindableService;
import dev.nodekit.common.grpc.UdsServer;

/** Public door to {@link TestUds} for tests in other packages. */
public final class TestUdsAccess {
    private TestUdsAccess() {
    }

    public static UdsServer serve(Path socket, BindableService... services) throws Exception {
        return TestUds.serve(socket, services);
    }
}
