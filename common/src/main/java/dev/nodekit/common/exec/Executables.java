package dev.nodekit.common.exec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds executables the way a root shell would: {@code PATH} first, then the sbin and bin
 * directories, which a minimal environment (a CNI exec, a systemd unit) often lacks.
 */
public final class Executables {
    private static final List<Path> SEARCH_PATH = computeSearchPath();

    private Executables() {
    }

    /** The directories searched, in order. */
    public static List<Path> searchPath() {
        return SEARCH_PATH;
    }

    /** The absolute path of executable {@code name}; a name with a slash is checked as given. */
    public static Optional<Path> which(String name) {
        if (name.contains("/")) {
            Path p = Path.of(name);
            return Files.isExecutable(p) && !Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
        }
        for (Path dir : SEARCH_PATH) {
            Path p = dir.resolve(name);
            if (Files.isExecutable(p) && !Files.isDirectory(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private static List<Path> computeSearchPath() {
        List<Path> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String p : path.split(":")) {
                if (!p.isEmpty() && !dirs.contains(Path.of(p))) {
                    dirs.add(Path.of(p));
                }
            }
        }
        for (String p : List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")) {
            if (!dirs.contains(Path.of(p))) {
                dirs.add(Path.of(p));
            }
        }
        return List.copyOf(dirs);
    }
}
