package dev.nodekit.csi.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.testing.RecordingCommandRunner;

/**
 * A fake {@code /sys/block} with loop devices, and {@code losetup} answers that keep it up to date:
 * enough of the kernel for the attach, detach and recovery logic to run without root.
 */
final class FakeLoops {
    final Path sysBlock;
    final RecordingCommandRunner runner = new RecordingCommandRunner();
    private final AtomicInteger next = new AtomicInteger(3);

    FakeLoops(Path sysBlock) throws IOException {
        this.sysBlock = Files.createDirectories(sysBlock);
        runner.onPrefix("losetup", "--find", "--show").thenAnswer(c -> {
            List<String> argv = c.argv();
            Path file = Path.of(argv.get(argv.size() - 1));
            String dev = attach(file, argv.contains("--read-only"));
            return new CommandResult(argv, 0, dev + "\n", "", Duration.ofMillis(1));
        });
        runner.onPrefix("losetup", "-d").thenAnswer(c -> {
            detach(c.argv().get(2));
            return new CommandResult(c.argv(), 0, "", "", Duration.ofMillis(1));
        });
        runner.onPrefix("losetup", "-c").thenSucceed();
    }

    /** Attaches {@code file} to the next free fake device; returns {@code /dev/loopN}. */
    String attach(Path file, boolean readOnly) {
        String name = "loop" + next.getAndIncrement();
        try {
            Path dir = Files.createDirectories(sysBlock.resolve(name).resolve("loop"));
            Files.writeString(dir.resolve("backing_file"), file + "\n");
            Files.writeString(sysBlock.resolve(name).resolve("ro"), readOnly ? "1\n" : "0\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return "/dev/" + name;
    }

    /** What the kernel does at detach: the device stays, its {@code loop/} directory goes. */
    void detach(String device) {
        String name = Path.of(device).getFileName().toString();
        try {
            Path dir = sysBlock.resolve(name).resolve("loop");
            Files.deleteIfExists(dir.resolve("backing_file"));
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Forgets every device, as a reboot does. */
    void reboot() throws IOException {
        try (var s = Files.list(sysBlock)) {
            for (Path p : s.toList()) {
                detach("/dev/" + p.getFileName());
            }
        }
    }

    /** The number of losetup invocations starting with {@code args}. */
    int count(String... args) {
        return runner.invocationsStartingWith(args).size();
    }
}
