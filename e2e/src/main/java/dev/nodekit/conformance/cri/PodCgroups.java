package dev.nodekit.conformance.cri;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Removes the pod-level cgroup directory a removed pod leaves behind on a cgroupfs host: the runtime
 * removes the container cgroups below it, the directory named by cgroup_parent is the client's
 * (kubelet's) to remove. Best effort and never recursive: an rmdir only succeeds on a cgroup with no
 * children and no tasks, so nothing in use can go. Systemd slices are left to systemd.
 */
final class PodCgroups {
    private static final Path BASE = Path.of("/sys/fs/cgroup");

    private PodCgroups() {
    }

    static void removeIfEmpty(String cgroupParent) {
        if (!cgroupParent.startsWith("/") || cgroupParent.endsWith(".slice") || cgroupParent.contains("..")) {
            return;
        }
        for (Path root : roots()) {
            Path dir = root.resolve(cgroupParent.substring(1));
            if (dir.startsWith(root) && Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    Files.delete(dir);
                } catch (IOException | SecurityException e) {
                    // still in use, not ours to force, or no permission: leave it
                }
            }
        }
    }

    /** cgroup v2 (one tree) or the v1 hierarchies, without their symlinked aliases (cpu -> cpu,cpuacct). */
    static List<Path> roots() {
        List<Path> out = new ArrayList<>();
        if (Files.exists(BASE.resolve("cgroup.controllers"))) {
            out.add(BASE);
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(BASE)) {
            for (Path p : ds) {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }
}
