package dev.nodekit.csi.local;

import java.nio.file.Path;

import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.csi.spi.StorageBackend;
import dev.nodekit.csi.spi.StorageBackendContract;

/**
 * The storage backend contract for the local backend as it runs on a node: real {@code losetup},
 * real loop devices, data written and read back through {@code /dev/loopN}.
 */
@Requires({Requirement.ROOT, Requirement.LOOP_DEVICES})
class LocalBackendContractIT extends StorageBackendContract {
    @TempDir
    Path dir;

    @Override
    protected StorageBackend newBackend() throws Exception {
        return LocalBackendFactory.open(LocalBackendConfig.of(dir.resolve("data"), "it-node"));
    }

    @Override
    protected StorageBackend reopen(StorageBackend old) throws Exception {
        old.close();
        return newBackend();
    }

    @Override
    protected boolean canAttach() {
        return true;
    }
}
