package dev.nodekit.common.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SysfsAttributesTest {
    @TempDir
    Path dir;

    @Test
    void readsTheStrippedTextAndAMissingFileAsAbsent() throws Exception {
        Path f = Files.writeString(dir.resolve("backing_file"), "/data/img\n");
        assertThat(SysfsAttributes.read(f)).contains("/data/img");
        assertThat(SysfsAttributes.read(dir.resolve("loop9").resolve("ro"))).isEmpty();
    }

    @Test
    void aDeviceGoingAwayReadsAsAbsentButOtherErrorsAreThrown() {
        assertThat(SysfsAttributes.deviceGone(new FileSystemException("/sys/block/loop1/loop/backing_file", null,
                "No such device"))).isTrue();
        assertThat(SysfsAttributes.deviceGone(new FileSystemException("/sys/block/loop1/ro", null,
                "No such device or address"))).isTrue();
        assertThat(SysfsAttributes.deviceGone(new FileSystemException("/sys/block/loop1/ro", null,
                "Permission denied"))).isFalse();
        assertThat(SysfsAttributes.deviceGone(new java.io.IOException("No such device"))).isTrue(); // at read()
        assertThat(SysfsAttributes.deviceGone(new java.io.IOException("Input/output error"))).isFalse();
        assertThatThrownBy(() -> SysfsAttributes.read(dir)).isInstanceOf(java.io.IOException.class); // a directory
    }
}
