package dev.nodekit.csi;

import java.nio.file.Path;

import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.csi.spi.StorageBackend;
import dev.nodekit.csi.spi.StorageBackendContract;

/** The test fake keeps the same contract as the real backends, so service tests on it mean something. */
class FakeBackendContractTest extends StorageBackendContract {
    @TempDir
    Path dir;

    @Override
    protected StorageBackend newBackend() {
        return new FakeBackend("node-a", dir.resolve("dev"));
    }

    @Override
    protected StorageBackend reopen(StorageBackend old) {
        old.close();
        return ((FakeBackend) old).reopened();
    }

    @Override
    protected boolean canAttach() {
        return false;
    }
}
