package dev.nodekit.common.fs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads sysfs attribute files of devices that other processes may remove at any moment (a loop
 * device detached by someone else between listing {@code /sys/block} and reading its files): a
 * missing file, and a file whose device is going away (the kernel answers ENODEV or ENXIO), read as
 * absent instead of failing the caller's operation. Any other error is still thrown.
 */
public final class SysfsAttributes {
    private SysfsAttributes() {
    }

    /** The attribute's text, stripped; empty when the file or its device is gone. */
    public static Optional<String> read(Path attribute) throws IOException {
        try {
            return Optional.of(Files.readString(attribute, StandardCharsets.UTF_8).strip());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            if (deviceGone(e)) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /**
     * Whether {@code e} says the device behind a sysfs file is being removed (ENODEV, ENXIO): at
     * open a FileSystemException with that reason, at read a plain IOException with that message.
     */
    static boolean deviceGone(IOException e) {
        String reason = String.valueOf(e instanceof FileSystemException f ? f.getReason() : e.getMessage());
        return reason.equals("No such device") || reason.equals("No such device or address");
    }
}
