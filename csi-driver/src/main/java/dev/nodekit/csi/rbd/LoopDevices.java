package dev.nodekit.csi.rbd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.fs.SysfsAttributes;

/**
 * Loop devices for the rbd-fuse path, through {@code losetup} and {@code /sys/block/loopN}: a
 * device number is never trusted without checking which file backs it now. (The local backend has
 * its own copy of the basics; the two backends share no package.)
 */
final class LoopDevices {
    static final Pattern DEVICE = Pattern.compile("/dev/(loop[0-9]{1,7})");

    private final CommandRunner runner;
    private final Path sysBlock;
    private final Duration timeout;

    LoopDevices(CommandRunner runner, Path sysBlock, Duration timeout) {
        this.runner = runner;
        this.sysBlock = sysBlock;
        this.timeout = timeout;
    }

    /** {@code losetup --find --show [--read-only] FILE}: the new device. */
    Path attach(Path file, boolean readOnly) throws CommandException {
        List<String> argv = new ArrayList<>(List.of("losetup", "--find", "--show"));
        if (readOnly) {
            argv.add("--read-only");
        }
        argv.add(file.toString());
        CommandResult r = runner.runChecked(Command.of(argv).withTimeout(timeout));
        List<String> lines = r.stdoutLines();
        String device = lines.isEmpty() ? "" : lines.get(lines.size() - 1).strip();
        if (!DEVICE.matcher(device).matches()) {
            throw new CommandException(argv, "losetup printed '" + device.replaceAll("[^\\x20-\\x7e]", "?")
                    + "', not a /dev/loopN device", null);
        }
        return Path.of(device);
    }

    /** {@code losetup [--read-only] DEVICE FILE}: attaches to that device (re-pointing a healed one). */
    void attachAt(Path device, Path file, boolean readOnly) throws CommandException {
        List<String> argv = new ArrayList<>(List.of("losetup"));
        if (readOnly) {
            argv.add("--read-only");
        }
        argv.add(checkDevice(device).toString());
        argv.add(file.toString());
        runner.runChecked(Command.of(argv).withTimeout(timeout));
    }

    /** {@code losetup -d DEVICE}. */
    void detach(Path device) throws CommandException {
        runner.runChecked(Command.of("losetup", "-d", checkDevice(device).toString()).withTimeout(timeout));
    }

    /** {@code losetup -c DEVICE}: re-read the backing file's size. */
    void refresh(Path device) throws CommandException {
        runner.runChecked(Command.of("losetup", "-c", checkDevice(device).toString()).withTimeout(timeout));
    }

    /** The file backing {@code device}, empty when it is not attached. */
    Optional<Path> backingFile(Path device) throws IOException {
        // Empty also when someone else detaches the device right now.
        return SysfsAttributes.read(sysBlock.resolve(loopName(device)).resolve("loop").resolve("backing_file"))
                .filter(text -> !text.isEmpty()).map(Path::of);
    }

    /** The size of {@code device} in bytes (sysfs, 512-byte sectors). */
    long size(Path device) throws IOException {
        String sectors = Files.readString(sysBlock.resolve(loopName(device)).resolve("size"), StandardCharsets.US_ASCII);
        return Long.parseLong(sectors.strip()) * 512;
    }

    /** True when something stacks on the device (a holder such as device-mapper). */
    boolean hasHolders(Path device) throws IOException {
        Path holders = sysBlock.resolve(loopName(device)).resolve("holders");
        if (!Files.isDirectory(holders)) {
            return false;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(holders)) {
            return ds.iterator().hasNext();
        }
    }

    /** The devices backed by a file under {@code dir}. */
    List<Path> devicesUnder(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(sysBlock)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(sysBlock, "loop*")) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (!name.matches("loop[0-9]{1,7}")) {
                    continue;
                }
                Optional<Path> backing = backingFile(Path.of("/dev", name));
                if (backing.isPresent() && backing.get().startsWith(dir)) {
                    out.add(Path.of("/dev", name));
                }
            }
        }
        return out;
    }

    static Path checkDevice(Path device) {
        loopName(device);
        return device;
    }

    static String loopName(Path device) {
        Matcher m = DEVICE.matcher(device.toString());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a loop device: " + device.toString().replaceAll("[^\\x20-\\x7e]", "?"));
        }
        return m.group(1);
    }
}
