package dev.nodekit.csi.local;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.fs.SysfsAttributes;

/**
 * Loop devices through {@code losetup} (attach, detach, refresh) and {@code /sys/block/loopN}
 * (which file backs a device, whether it is read-only), so that a device number is never trusted
 * without checking what it is attached to now.
 */
final class LoopDevices {
    static final Pattern DEVICE = Pattern.compile("/dev/(loop[0-9]{1,7})");
    private static final Pattern LOOP_NAME = Pattern.compile("loop[0-9]{1,7}");
    private static final String DELETED = " (deleted)";

    private final CommandRunner runner;
    private final Path sysBlock;
    private final Duration timeout;

    /**
     * @param sysBlock {@code /sys/block} (a directory of fakes in unit tests)
     * @param timeout  per losetup invocation
     */
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
            throw new CommandException(argv, "losetup printed '" + shorten(device) + "', not a /dev/loopN device", null);
        }
        return Path.of(device);
    }

    /** {@code losetup -d DEVICE}. */
    void detach(Path device) throws CommandException {
        runner.runChecked(Command.of("losetup", "-d", checkDevice(device).toString()).withTimeout(timeout));
    }

    /** {@code losetup -c DEVICE}: re-read the backing file's size. */
    void refresh(Path device) throws CommandException {
        runner.runChecked(Command.of("losetup", "-c", checkDevice(device).toString()).withTimeout(timeout));
    }

    /** The file backing {@code device} now, empty when the device is not attached (or does not exist). */
    Optional<Path> backingFile(Path device) throws IOException {
        return backingFileOf(loopName(device));
    }

    /** True when {@code device} is attached to exactly {@code file}. */
    boolean isAttachedTo(Path device, Path file) throws IOException {
        return backingFile(device).map(file::equals).orElse(false);
    }

    /** The kernel's read-only flag of {@code device}. */
    boolean readOnly(Path device) throws IOException {
        return SysfsAttributes.read(sysBlock.resolve(loopName(device)).resolve("ro")).map("1"::equals).orElse(false);
    }

    /** Every attached loop device and its backing file, e.g. {@code /dev/loop3 -> /data/pools/...img}. */
    Map<Path, Path> scan() throws IOException {
        Map<Path, Path> out = new TreeMap<>();
        if (!Files.isDirectory(sysBlock)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(sysBlock, "loop*")) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (LOOP_NAME.matcher(name).matches()) {
                    Optional<Path> backing = backingFileOf(name);
                    if (backing.isPresent()) {
                        out.put(Path.of("/dev", name), backing.get());
                    }
                }
            }
        }
        return out;
    }

    /** The devices attached to {@code file}. */
    List<Path> devicesBackedBy(Path file) throws IOException {
        List<Path> out = new ArrayList<>();
        for (Map.Entry<Path, Path> e : scan().entrySet()) {
            if (e.getValue().equals(file)) {
                out.add(e.getKey());
            }
        }
        return out;
    }

    private Optional<Path> backingFileOf(String loopName) throws IOException {
        // Empty: no such device, not attached (no loop/ directory), or detached by someone else right now.
        Optional<String> text = SysfsAttributes.read(sysBlock.resolve(loopName).resolve("loop").resolve("backing_file"));
        if (text.isEmpty() || text.get().isEmpty() || text.get().endsWith(DELETED)) {
            return Optional.empty(); // a device on a deleted file is nobody's data any more
        }
        return Optional.of(Path.of(text.get()));
    }

    static Path checkDevice(Path device) {
        loopName(device);
        return device;
    }

    static String loopName(Path device) {
        Matcher m = DEVICE.matcher(device.toString());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a loop device: " + shorten(device.toString()));
        }
        return m.group(1);
    }

    private static String shorten(String s) {
        String clean = s.replaceAll("[^\\x20-\\x7e]", "?");
        return clean.length() > 80 ? clean.substring(0, 80) + "..." : clean;
    }
}
