package dev.nodekit.conformance.cri;

import java.nio.file.Path;

import dev.nodekit.common.grpc.UdsServer;
import dev.nodekit.conformance.csi.TestUdsAccess;
import dev.nodekit.spec.cri.v1.VersionResponse;

/** Public door to {@link FakeCri} served on a unix socket, for tests of the command line. */
public final class FakeCriOnUds implements AutoCloseable {
    private final FakeCri fake;
    private final UdsServer server;

    private FakeCriOnUds(FakeCri fake, UdsServer server) {
        this.fake = fake;
        this.server = server;
    }

    /** Serves a healthy fake runtime on {@code socket}; host processes run in {@code workDir}. */
    public static FakeCriOnUds start(Path socket, Path workDir) throws Exception {
        FakeCri f = new FakeCri(workDir);
        try {
            return new FakeCriOnUds(f, TestUdsAccess.serve(socket, f.services()));
        } catch (Exception e) {
            f.close();
            throw e;
        }
    }

    /** Injects one defect: Version answers without runtime_name. */
    public void breakVersion() {
        fake.version = () -> VersionResponse.newBuilder().setVersion("0.1.0").setRuntimeVersion("1")
                .setRuntimeApiVersion("v1").build();
    }

    @Override
    public void close() {
        server.close();
        fake.close();
    }
}
