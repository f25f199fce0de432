package dev.nodekit.cni.install;

import java.io.IOException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Copies a JVM home into the lib dir for {@code --bundle-jvm}: an install run from a container image
 * leaves launchers the host must be able to run when the daemon is down, with the image's JVM gone.
 * The copy is skipped when the target holds the same JVM (same {@code release} file, copy completed);
 * otherwise it is built beside the target and swapped in by rename.
 */
final class JvmBundle {
    private static final String DONE = ".nodekit-jvm-complete";
    private static final Set<String> SKIPPED = Set.of("jmods", "include", "man", "docs", "demo", "sample", "src.zip");

    private JvmBundle() {
    }

    /** Copies the home of {@code java} to {@code target} (if needed) and returns the copy's {@code bin/java}. */
    static Path install(Path java, Path target) throws InstallException {
        Path home;
        try {
            home = java.toRealPath().getParent().getParent();
        } catch (IOException e) {
            throw new InstallException("--java " + java + " cannot be resolved: " + e.getMessage());
        }
        Path release = home.resolve("release");
        if (!Files.isRegularFile(release) || !Files.isExecutable(home.resolve("bin/java"))) {
            throw new InstallException(home + " does not look like a JVM home (no release file or bin/java)");
        }
        Path copied = target.resolve("bin/java");
        try {
            if (home.equals(target.toRealPath()) || sameJvm(release, target)) {
                return copied;
            }
        } catch (IOException e) {
            // No usable copy yet.
        }
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Path old = target.resolveSibling("." + target.getFileName() + ".old");
        try {
            deleteTree(tmp);
            copyTree(home, tmp);
            Files.writeString(tmp.resolve(DONE), "copied from " + home + "\n");
            deleteTree(old);
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            deleteTree(old);
        } catch (IOException e) {
            throw new InstallException("cannot copy the JVM " + home + " to " + target + ": " + e.getMessage());
        }
        return copied;
    }

    private static boolean sameJvm(Path release, Path target) throws IOException {
        Path theirs = target.resolve("release");
        return Files.isRegularFile(target.resolve(DONE)) && Files.isRegularFile(theirs)
                && Arrays.equals(Files.readAllBytes(release), Files.readAllBytes(theirs));
    }

    /**
     * Copies what a JVM needs to run (links followed: Debian's JDK links into /etc and /usr/share),
     * leaving out what only a compiler or a reader needs: jmods, headers, man pages, docs, sources.
     */
    private static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE, new SimpleFileVisitor<Path>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path rel = from.relativize(dir);
                if (rel.getNameCount() == 1 && SKIPPED.contains(rel.toString())) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                Files.createDirectories(to.resolve(rel.toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Path rel = from.relativize(file);
                // A link still seen as a link did not resolve (docs of an uninstalled package): nothing to copy.
                if ((rel.getNameCount() == 1 && SKIPPED.contains(rel.toString())) || attrs.isSymbolicLink()) {
                    return FileVisitResult.CONTINUE;
                }
                Files.copy(file, to.resolve(rel.toString()), StandardCopyOption.COPY_ATTRIBUTES);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                // A dangling link (docs pointing at an uninstalled package): nothing to copy.
                return FileVisitResult.CONTINUE;
            }
        });
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
