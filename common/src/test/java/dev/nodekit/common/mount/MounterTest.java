package dev.nodekit.common.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandTimeoutException;
import dev.nodekit.common.testing.FakeMountTable;
import dev.nodekit.common.testing.RecordingCommandRunner;

class MounterTest {
    @TempDir
    Path dir;

    private final FakeMountTable table = FakeMountTable.withRoot();
    private final RecordingCommandRunner runner = new RecordingCommandRunner();
    private final Mounter mounter = new Mounter(runner, table.mounts(), Duration.ofSeconds(7));
    private Path src;
    private Path dst;

    @BeforeEach
    void setUp() throws Exception {
        table.scriptOn(runner);
        dir = dir.toRealPath();
        src = Files.createDirectories(dir.resolve("staging"));
        dst = Files.createDirectories(dir.resolve("pod volume"));
    }

    @Test
    void bindMountRunsMountOnceAndIsIdempotent() throws Exception {
        assertThat(mounter.bindMount(src, dst)).isTrue();
        assertThat(runner.argvs()).containsExactly(List.of("mount", "--bind", "--", src.toString(), dst.toString()));
        assertThat(runner.invocations().get(0).timeout()).isEqualTo(Duration.ofSeconds(7));
        assertThat(table.mounts().findByMountPoint(dst)).hasValueSatisfying(m -> {
            assertThat(m.root()).isEqualTo(src.toString());
            assertThat(m.readOnly()).isFalse();
        });

        runner.clearInvocations();
        assertThat(mounter.bindMount(src, dst)).isFalse();
        assertThat(runner.argvs()).isEmpty();
    }

    @Test
    void bindMountOfAFile() throws Exception {
        Path file = Files.writeString(dir.resolve("hosts"), "127.0.0.1 localhost\n");
        Path target = Files.createFile(dir.resolve("etc-hosts"));
        assertThat(mounter.bindMount(file, target)).isTrue();
        assertThat(table.mounts().isMountPoint(target)).isTrue();
        assertThat(mounter.bindMount(file, target)).isFalse();
    }

    @Test
    void sameSourceIsRecognisedThroughAnotherMount() throws Exception {
        // The source is itself a mount (a staged volume): the bind shows that filesystem's root.
        table.add("60 1 7:3 / " + src + " rw,relatime - ext4 /dev/loop3 rw");
        assertThat(mounter.bindMount(src, dst)).isTrue();
        assertThat(table.mounts().findByMountPoint(dst)).hasValueSatisfying(m -> {
            assertThat(m.majorMinor()).isEqualTo("7:3");
            assertThat(m.root()).isEqualTo("/");
        });
        assertThat(mounter.bindMount(src, dst)).isFalse();
    }

    @Test
    void readOnlyBindMountsThenRemounts() throws Exception {
        assertThat(mounter.bindMountReadOnly(src, dst)).isTrue();
        assertThat(runner.argvs()).containsExactly(
                List.of("mount", "--bind", "--", src.toString(), dst.toString()),
                List.of("mount", "-o", "remount,bind,ro", "--", dst.toString()));
        assertThat(table.mounts().findByMountPoint(dst)).hasValueSatisfying(m -> assertThat(m.readOnly()).isTrue());
        runner.clearInvocations();
        assertThat(mounter.bindMountReadOnly(src, dst)).isFalse();
        assertThat(runner.argvs()).isEmpty();
    }

    @Test
    void readOnlyBindFinishesAHalfDoneOne() throws Exception {
        mounter.bindMount(src, dst);
        runner.clearInvocations();
        assertThat(mounter.bindMountReadOnly(src, dst)).isTrue();
        assertThat(runner.argvs()).containsExactly(List.of("mount", "-o", "remount,bind,ro", "--", dst.toString()));
    }

    @Test
    void failedRemountUndoesTheBind() throws Exception {
        runner.onPrefix("mount", "-o", "remount,bind,ro").thenFail(32, "mount: permission denied");
        assertThatThrownBy(() -> mounter.bindMountReadOnly(src, dst)).isInstanceOfSatisfying(MountException.class, e -> {
            assertThat(e.isConflict()).isFalse();
            assertThat(e.target()).isEqualTo(dst);
            assertThat(e).hasMessageContaining("read-only remount").hasMessageContaining("permission denied");
        });
        assertThat(runner.argvs()).last().isEqualTo(List.of("umount", "--", dst.toString()));
        assertThat(table.mounts().isMountPoint(dst)).isFalse();
    }

    @Test
    void bindOverSomethingElseIsAConflictAndRunsNothing() throws Exception {
        Path other = Files.createDirectories(dir.resolve("other"));
        mounter.bindMount(other, dst);
        runner.clearInvocations();
        assertThatThrownBy(() -> mounter.bindMount(src, dst)).isInstanceOfSatisfying(MountException.class, e -> {
            assertThat(e.isConflict()).isTrue();
            assertThat(e).hasMessageContaining("already has").hasMessageContaining(other.toString());
        });
        assertThat(runner.argvs()).isEmpty();
    }

    @Test
    void readWriteBindOverTheSameReadOnlyBindIsAConflict() throws Exception {
        mounter.bindMountReadOnly(src, dst);
        assertThatThrownBy(() -> mounter.bindMount(src, dst)).isInstanceOfSatisfying(MountException.class,
                e -> assertThat(e.isConflict()).isTrue());
    }

    @Test
    void bindOfAMissingSourceFails() {
        assertThatThrownBy(() -> mounter.bindMount(dir.resolve("gone"), dst)).isInstanceOf(MountException.class)
                .hasMessageContaining("does not exist");
        assertThat(runner.argvs()).isEmpty();
    }

    @Test
    void mountFailureCarriesTheCommandsStderr() {
        runner.onPrefix("mount", "--bind").thenFail(32, "mount: " + dst + ": special device does not exist.");
        assertThatThrownBy(() -> mounter.bindMount(src, dst)).isInstanceOfSatisfying(MountException.class, e -> {
            assertThat(e).hasMessageContaining("exited with code 32").hasMessageContaining("special device");
            assertThat(e.getCause()).isInstanceOf(CommandException.class);
        });
    }

    @Test
    void timeoutBecomesAMountExceptionWithTheCause() {
        runner.onPrefix("mount", "--bind").thenTimeout();
        assertThatThrownBy(() -> mounter.bindMount(src, dst)).isInstanceOf(MountException.class)
                .hasCauseInstanceOf(CommandTimeoutException.class);
    }

    @Test
    void deviceMountPassesTypeOptionsAndSeparatesPaths() throws Exception {
        assertThat(mounter.mount("/dev/loop3", dst, "ext4", List.of("noatime", "discard"))).isTrue();
        assertThat(runner.argvs()).containsExactly(
                List.of("mount", "-t", "ext4", "-o", "noatime,discard", "--", "/dev/loop3", dst.toString()));
        runner.clearInvocations();
        assertThat(mounter.mount("/dev/loop3", dst, "ext4", List.of("noatime"))).isFalse();
        assertThat(runner.argvs()).isEmpty();
        assertThat(mounter.mount("tmpfs", Files.createDirectories(dir.resolve("t")), "tmpfs", List.of())).isTrue();
        assertThat(runner.argvs()).last().isEqualTo(List.of("mount", "-t", "tmpfs", "--", "tmpfs", dir.resolve("t").toString()));
    }

    @Test
    void deviceMountIsIdempotentThroughADeviceSymlink() throws Exception {
        Path dev = Files.createFile(dir.resolve("loop7"));
        Path byUuid = Files.createSymbolicLink(dir.resolve("by-uuid"), dev);
        table.add("70 1 7:7 / " + dst.toString().replace(" ", "\\040") + " rw - ext4 " + dev + " rw");
        assertThat(mounter.mount(byUuid.toString(), dst, "ext4", List.of())).isFalse();
        assertThat(runner.argvs()).isEmpty();
    }

    @Test
    void deviceMountConflicts() throws Exception {
        mounter.mount("/dev/loop3", dst, "ext4", List.of());
        assertThatThrownBy(() -> mounter.mount("/dev/loop4", dst, "ext4", List.of()))
                .isInstanceOfSatisfying(MountException.class, e -> assertThat(e.isConflict()).isTrue());
        assertThatThrownBy(() -> mounter.mount("/dev/loop3", dst, "ext4", List.of("ro")))
                .isInstanceOfSatisfying(MountException.class, e -> assertThat(e).hasMessageContaining("read-only"));
    }

    @Test
    void rejectsArgumentsThatCouldBeReadAsOptions() {
        assertThatThrownBy(() -> mounter.mount("-oremount", dst, "ext4", List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> mounter.mount("/dev/x", dst, "ext4 -o", List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> mounter.mount("/dev/x", dst, "ext4", List.of("a,b"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> mounter.bindMount(Path.of("relative"), dst)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> mounter.unmount(Path.of("relative"))).isInstanceOf(IllegalArgumentException.class);
        assertThat(runner.argvs()).isEmpty();
    }

    @Test
    void unmountIsIdempotentAndUsesTheKernelsMountPoint() throws Exception {
        assertThat(mounter.unmount(dst)).isFalse();
        assertThat(mounter.unmount(dir.resolve("does/not/exist"))).isFalse();
        assertThat(runner.argvs()).isEmpty();

        mounter.bindMount(src, dst);
        runner.clearInvocations();
        assertThat(mounter.unmount(dir.resolve("pod volume/../pod volume"))).isTrue();
        assertThat(runner.argvs()).containsExactly(List.of("umount", "--", dst.toString()));
        assertThat(mounter.unmount(dst)).isFalse();
    }

    @Test
    void lazyUnmount() throws Exception {
        mounter.bindMount(src, dst);
        runner.clearInvocations();
        assertThat(mounter.unmountLazily(dst)).isTrue();
        assertThat(runner.argvs()).containsExactly(List.of("umount", "-l", "--", dst.toString()));
    }

    @Test
    void unmountRacingAnotherUnmountIsFine() throws Exception {
        mounter.bindMount(src, dst);
        RecordingCommandRunner someoneElse = new RecordingCommandRunner();
        table.scriptOn(someoneElse);
        // Someone else unmounts between our look at mountinfo and our umount, which then says "not mounted".
        runner.onPrefix("umount").thenAnswer(c -> {
            someoneElse.run(Command.of("umount", "--", dst.toString()));
            return new CommandResult(c.argv(), 32, "", "umount: " + dst + ": not mounted.", Duration.ZERO);
        });
        assertThat(mounter.unmount(dst)).isTrue();
        assertThat(table.mounts().isMountPoint(dst)).isFalse();
    }

    @Test
    void unmountFailureOfABusyMountIsReported() throws Exception {
        mounter.bindMount(src, dst);
        runner.onPrefix("umount").thenFail(32, "umount: " + dst + ": target is busy.");
        assertThatThrownBy(() -> mounter.unmount(dst)).isInstanceOfSatisfying(MountException.class, e -> {
            assertThat(e.isConflict()).isFalse();
            assertThat(e).hasMessageContaining("target is busy");
        });
        assertThat(table.mounts().isMountPoint(dst)).isTrue();
    }
}
