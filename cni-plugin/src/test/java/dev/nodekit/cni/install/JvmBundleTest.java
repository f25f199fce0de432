package dev.nodekit.cni.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --bundle-jvm on a small fake JVM home: what is copied, what is left out, when the copy is reused or replaced. */
class JvmBundleTest {
    @TempDir
    Path dir;

    Path home() throws Exception {
        Path home = dir.resolve("jdk");
        Files.createDirectories(home.resolve("bin"));
        Files.createDirectories(home.resolve("lib/security"));
        Files.createDirectories(home.resolve("jmods"));
        Files.writeString(home.resolve("release"), "JAVA_VERSION=\"17.0.15\"\n");
        Path java = Files.writeString(home.resolve("bin/java"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(home.resolve("jmods/java.base.jmod"), "big");
        // Debian links configuration out of the JDK: the copy must hold the content.
        Path etc = Files.writeString(dir.resolve("java.security"), "security=1\n");
        Files.createSymbolicLink(home.resolve("lib/security/java.security"), etc);
        Files.createSymbolicLink(home.resolve("lib/dangling"), dir.resolve("missing"));
        return home;
    }

    @Test
    void copiesWhatRunsFollowingLinksAndReusesOrReplacesTheCopy() throws Exception {
        Path home = home();
        Path target = dir.resolve("lib/jvm");
        Path java = JvmBundle.install(home.resolve("bin/java"), target);
        assertThat(java).isEqualTo(target.resolve("bin/java"));
        assertThat(Files.isExecutable(java)).isTrue();
        assertThat(target.resolve("jmods")).doesNotExist();
        assertThat(Files.isSymbolicLink(target.resolve("lib/security/java.security"))).isFalse();
        assertThat(Files.readString(target.resolve("lib/security/java.security"))).isEqualTo("security=1\n");

        // Same release: the copy is reused as it is.
        Files.writeString(target.resolve("marker"), "kept");
        JvmBundle.install(home.resolve("bin/java"), target);
        assertThat(target.resolve("marker")).exists();

        // Another JVM: replaced whole.
        Files.writeString(home.resolve("release"), "JAVA_VERSION=\"17.0.16\"\n");
        JvmBundle.install(home.resolve("bin/java"), target);
        assertThat(target.resolve("marker")).doesNotExist();
        assertThat(Files.readString(target.resolve("release"))).contains("17.0.16");
        assertThat(dir.resolve("lib/.jvm.old")).doesNotExist();
        assertThat(dir.resolve("lib/.jvm.tmp")).doesNotExist();
    }

    @Test
    void refusesSomethingThatIsNotAJvmHome() throws Exception {
        Path sh = Files.writeString(Files.createDirectories(dir.resolve("x/bin")).resolve("java"), "");
        assertThatThrownBy(() -> JvmBundle.install(sh, dir.resolve("jvm"))).hasMessageContaining("does not look like a JVM");
    }
}
