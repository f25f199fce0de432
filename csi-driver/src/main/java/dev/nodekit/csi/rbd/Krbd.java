package dev.nodekit.csi.rbd;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;

/**
 * The kernel RBD client through the {@code rbd} tool: {@code rbd map} prints the new
 * {@code /dev/rbdN}; {@code rbd unmap DEVICE} removes it. The key is passed as a key file path
 * (deleted by the caller after the map), never on the command line.
 */
final class Krbd {
    static final Pattern DEVICE = Pattern.compile("/dev/rbd[0-9]{1,6}");
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private Krbd() {
    }

    /** The {@code rbd map} command line. */
    static List<String> mapCommand(String monitors, String userId, Path keyFile, String pool, String image,
            boolean readOnly) {
        List<String> argv = new ArrayList<>(List.of("rbd", "-c", "/dev/null", "-m", monitors, "--id", userId,
                "--keyfile", keyFile.toString(), "map", pool + "/" + image));
        if (readOnly) {
            argv.add("--read-only");
        }
        return argv;
    }

    static Path map(CommandRunner runner, String monitors, String userId, Path keyFile, String pool, String image,
            boolean readOnly) throws CommandException {
        List<String> argv = mapCommand(monitors, userId, keyFile, pool, image, readOnly);
        CommandResult r = runner.runChecked(Command.of(argv).withTimeout(TIMEOUT));
        List<String> lines = r.stdoutLines();
        String device = lines.isEmpty() ? "" : lines.get(lines.size() - 1).strip();
        if (!DEVICE.matcher(device).matches()) {
            throw new CommandException(argv, "rbd map printed '" + device.replaceAll("[^\\x20-\\x7e]", "?")
                    + "', not a /dev/rbdN device", null);
        }
        return Path.of(device);
    }

    static void unmap(CommandRunner runner, Path device) throws CommandException {
        if (!DEVICE.matcher(device.toString()).matches()) {
            throw new IllegalArgumentException("not an rbd device: " + device);
        }
        CommandResult r = runner.run(Command.of("rbd", "unmap", device.toString()).withTimeout(TIMEOUT));
        if (!r.succeeded() && java.nio.file.Files.exists(device)) {
            r.checkSuccess(); // still mapped: a real failure (busy, ...)
        }
    }
}
