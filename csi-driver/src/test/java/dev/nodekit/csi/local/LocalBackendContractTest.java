package dev.nodekit.csi.local;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;

import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.testing.RecordingCommandRunner;
import dev.nodekit.csi.spi.StorageBackend;
import dev.nodekit.csi.spi.StorageBackendContract;

/**
 * The storage backend contract for the local backend without root: a temporary data dir, no
 * loop devices (an empty fake {@code /sys/block}, and a command runner that fails the test if
 * anything is run). The data tests through attach run as {@code LocalBackendContractIT} in e2e.
 */
class LocalBackendContractTest extends StorageBackendContract {
    @TempDir
    Path dir;

    @Override
    protected StorageBackend newBackend() throws Exception {
        return open();
    }

    @Override
    protected StorageBackend reopen(StorageBackend old) throws Exception {
        old.close();
        return open();
    }

    @Override
    protected boolean canAttach() {
        return false;
    }

    private LocalBackend open() throws Exception {
        Path sys = Files.createDirectories(dir.resolve("sys-block"));
        return LocalBackend.open(LocalBackendConfig.of(dir.resolve("data"), "node-a"), new RecordingCommandRunner(),
                Clock.systemUTC(), sys);
    }
}
