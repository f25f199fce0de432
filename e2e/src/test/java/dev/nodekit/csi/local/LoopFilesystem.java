package dev.nodekit.csi.local;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandRunner;

/**
 * A throw-away filesystem for a test: a sparse file, {@code mkfs}, a loop device, a mount in a
 * temporary directory. {@link #close()} unmounts, detaches and deletes, in that order, whatever
 * the test did.
 */
final class LoopFilesystem implements AutoCloseable {
    private final CommandRunner runner;
    private final Path image;
    private final Path device;
    private final Path mountpoint;

    private LoopFilesystem(CommandRunner runner, Path image, Path device, Path mountpoint) {
        this.runner = runner;
        this.image = image;
        this.device = device;
        this.mountpoint = mountpoint;
    }

    /**
     * Makes and mounts a filesystem of {@code type} ({@code xfs} with reflink, or {@code ext4}) of
     * {@code size} bytes under {@code workDir}.
     */
    static LoopFilesystem create(CommandRunner runner, Path workDir, String type, long size) throws Exception {
        Path image = workDir.resolve(type + ".fs");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(size);
        }
        List<String> mkfs = switch (type) {
            case "xfs" -> List.of("mkfs.xfs", "-q", "-f", "-m", "reflink=1", image.toString());
            case "ext4" -> List.of("mkfs.ext4", "-q", "-F", image.toString());
            default -> throw new IllegalArgumentException(type);
        };
        run(runner, mkfs);
        Path device = Path.of(run(runner, List.of("losetup", "--find", "--show", image.toString())).strip());
        Path mountpoint = Files.createDirectories(workDir.resolve("mnt-" + type));
        try {
            run(runner, List.of("mount", device.toString(), mountpoint.toString()));
        } catch (Exception e) {
            run(runner, List.of("losetup", "-d", device.toString()));
            throw e;
        }
        return new LoopFilesystem(runner, image, device, mountpoint);
    }

    Path mountpoint() {
        return mountpoint;
    }

    @Override
    public void close() throws IOException {
        List<Exception> problems = new ArrayList<>();
        try {
            run(runner, List.of("umount", mountpoint.toString()));
        } catch (Exception e) {
            problems.add(e);
        }
        try {
            run(runner, List.of("losetup", "-d", device.toString()));
        } catch (Exception e) {
            problems.add(e);
        }
        try {
            Files.deleteIfExists(image);
        } catch (IOException e) {
            problems.add(e);
        }
        if (!problems.isEmpty()) {
            IOException e = new IOException("cleaning up " + mountpoint + " failed: " + problems);
            problems.forEach(e::addSuppressed);
            throw e;
        }
    }

    static String run(CommandRunner runner, List<String> argv) throws CommandException {
        return runner.runChecked(Command.of(argv).withTimeout(Duration.ofSeconds(120))).stdout();
    }
}
