package dev.nodekit.csi.rbd;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.exec.ProcessCommandRunner;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.StorageBackend;
import dev.nodekit.csi.spi.StorageBackendContract;
import dev.nodekit.e2e.ceph.CephCluster;

/**
 * The backend contract on a real Ceph cluster (the shared memstore fixture), with the data tests
 * through rbd-fuse and loop devices. Names are unique per test, so the shared pool is fine.
 */
@Requires({Requirement.ROOT, Requirement.CEPH, Requirement.RBD_FUSE, Requirement.LOOP_DEVICES})
class RbdBackendContractIT extends StorageBackendContract {
    static CephCluster cluster;
    static Path work;
    static Path dataDir;
    static RbdConfig config;

    @BeforeAll
    static void boot() throws Exception {
        cluster = CephCluster.shared();
        work = Files.createTempDirectory("nodekit-rbd-contract-");
        dataDir = work.resolve("data");
        config = RbdTestCluster.config(cluster, RbdTestCluster.credentialDir(cluster, work));
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (work != null) {
            RbdHost.assertNothingLeft(work);
            RbdHost.deleteTree(work);
        }
    }

    @Override
    protected StorageBackend newBackend() throws Exception {
        return RbdBackendFactory.open(config, dataDir, new ProcessCommandRunner(), Clock.systemUTC());
    }

    @Override
    protected StorageBackend reopen(StorageBackend old) throws Exception {
        old.close();
        return newBackend();
    }

    @Override
    protected boolean canAttach() {
        return HostSupport.probe(dev.nodekit.common.exec.Executables::which, Path.of("/")).fuse();
    }

    @Override
    protected Credentials credentials() {
        return Credentials.of(RbdTestCluster.secrets(cluster));
    }

    @Override
    protected Map<String, String> parameters() {
        return RbdTestCluster.parameters(cluster);
    }
}
