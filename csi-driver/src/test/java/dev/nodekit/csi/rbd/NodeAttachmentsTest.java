package dev.nodekit.csi.rbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.mount.Mounts;
import dev.nodekit.common.testing.RecordingCommandRunner;
import dev.nodekit.csi.rbd.ceph.CephCredentials;
import dev.nodekit.csi.spi.Attachment;
import dev.nodekit.csi.spi.ObjectId;
import dev.nodekit.csi.spi.StorageException;

/**
 * The node path without root: rbd-fuse and krbd command lines, the key handling, the record
 * protocol and the teardown order, on a fake host (a fake /proc, /sys/block, mount table and
 * daemon launcher that plays rbd-fuse by creating the image file).
 */
class NodeAttachmentsTest {
    private static final String KEY = "AQBhHRVlAAAAABAAg9YEHCQKAzW4BqGzq5x5ew==";
    private static final CephCredentials CREDS = new CephCredentials("csi", KEY);
    private static final String MONS = "[v2:127.0.0.1:3300,v1:127.0.0.1:6789]";

    @TempDir
    Path tmp;

    Path proc;
    Path sysBlock;
    Path state;
    RecordingCommandRunner runner;
    final Set<String> mounted = ConcurrentHashMap.newKeySet();
    /** The fake rbd-fuse pid serving each mountpoint. */
    final Map<String, Long> daemonOf = new ConcurrentHashMap<>();
    final List<List<String>> launched = new ArrayList<>();
    final List<Map<String, String>> envs = new ArrayList<>();
    final List<String> keysSeenAtLaunch = new ArrayList<>();
    long nextPid = 4242;
    int nextLoop = 7;

    @BeforeEach
    void fakeHost() throws IOException {
        proc = Files.createDirectories(tmp.resolve("proc"));
        sysBlock = Files.createDirectories(tmp.resolve("sys/block"));
        state = tmp.resolve("data/rbd");
        runner = new RecordingCommandRunner();
        runner.onPrefix("losetup", "--find", "--show").thenAnswer(c -> {
            String file = c.argv().get(c.argv().size() - 1);
            String name = "loop" + nextLoop++;
            io(() -> {
                Path loop = Files.createDirectories(sysBlock.resolve(name + "/loop"));
                Files.writeString(loop.resolve("backing_file"), file + "\n");
            });
            return new CommandResult(c.argv(), 0, "/dev/" + name + "\n", "", Duration.ZERO);
        });
        runner.onPrefix("losetup", "-d").thenAnswer(c -> {
            String name = Path.of(c.argv().get(2)).getFileName().toString();
            io(() -> Files.deleteIfExists(sysBlock.resolve(name + "/loop/backing_file")));
            return new CommandResult(c.argv(), 0, "", "", Duration.ZERO);
        });
        runner.onPrefix("fusermount", "-u").thenAnswer(c -> {
            String mnt = c.argv().get(c.argv().size() - 1);
            mounted.remove(mnt);
            io(() -> {
                try (var files = Files.list(Path.of(mnt))) {
                    for (Path f : files.toList()) {
                        Files.delete(f); // what the mount showed is gone with it
                    }
                }
            });
            // the daemon serving this mountpoint (and no other) exits when its mount goes away
            Long pid = daemonOf.remove(mnt);
            if (pid != null) {
                io(() -> deleteTree(proc.resolve(Long.toString(pid))));
            }
            return new CommandResult(c.argv(), 0, "", "", Duration.ZERO);
        });
    }

    private NodeAttachments node(HostSupport host) throws IOException {
        DaemonLauncher launcher = (argv, env, log) -> {
            launched.add(argv);
            envs.add(env);
            String ceph = env.get("CEPH_ARGS");
            Path keyFile = Path.of(ceph.split("--keyfile ")[1].split(" ")[0]);
            keysSeenAtLaunch.add(Files.readString(keyFile).strip() + " " + PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(keyFile)));
            long pid = nextPid++;
            Path p = Files.createDirectories(proc.resolve(Long.toString(pid)));
            Files.writeString(p.resolve("stat"), pid + " (rbd-fuse) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
                    + (1000 + pid) + " 0 0\n");
            String mnt = argv.get(argv.indexOf("-f") - 1);
            String image = argv.get(argv.indexOf("-r") + 1);
            Files.createDirectories(Path.of(mnt));
            Files.writeString(Path.of(mnt).resolve(image), "image");
            mounted.add(mnt);
            daemonOf.put(mnt, pid);
            return pid;
        };
        Mounts mounts = Mounts.fromText(() -> {
            StringBuilder sb = new StringBuilder("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n");
            int id = 10;
            for (String m : mounted) {
                sb.append(id++).append(" 1 0:").append(50 + id).append(" / ").append(m)
                        .append(" rw - fuse.rbd-fuse rbd-fuse rw\n");
            }
            return sb.toString();
        });
        return new NodeAttachments(state, host, runner, launcher, new Procs(proc),
                new LoopDevices(runner, sysBlock, Duration.ofSeconds(5)), mounts, Duration.ofSeconds(5));
    }

    private static HostSupport fuseOnly() {
        return new HostSupport(false, true, Optional.of(Path.of("/usr/bin/rbd-fuse")),
                "the kernel has no rbd driver", "");
    }

    private static AttachTarget target(Optional<Mounter> m) {
        ObjectId id = ObjectId.newVolume("rbd", "ceph-a", "0000000000000003");
        return new AttachTarget(id, "ceph-a", MONS, "pool", "csi-vol-" + id.uuid(), m, false);
    }

    @Test
    void fuseAttachStartsOneDaemonPerImageWithAKeyFileThatIsGoneAfterwards() throws Exception {
        NodeAttachments n = node(fuseOnly());
        AttachTarget t = target(Optional.empty());
        Attachment a = n.attach(t, CREDS);

        assertThat(a.device()).isEqualTo(Path.of("/dev/loop7"));
        Path mnt = state.resolve("fuse").resolve(t.volume().uuid().toString());
        assertThat(launched).containsExactly(List.of("/usr/bin/rbd-fuse", "-c", "/dev/null", "-p", "pool", "-r",
                t.image(), mnt.toString(), "-f"));
        assertThat(envs.get(0).get("CEPH_ARGS")).startsWith("--id csi --keyfile " + state.resolve("keys"))
                .contains("-m " + MONS).doesNotContain(KEY);
        assertThat(keysSeenAtLaunch).containsExactly(KEY + " rw-------");
        try (var keys = Files.list(state.resolve("keys"))) {
            assertThat(keys.toList()).as("key files after the attach").isEmpty();
        }
        assertThat(runner.argvs()).containsExactly(List.of("losetup", "--find", "--show", mnt.resolve(t.image()).toString()));
        assertThat(n.find(t.volume())).contains(a);
        assertThat(n.all()).containsExactly(a);
        assertThat(a.state()).containsEntry("mounter", "fuse").containsEntry("pid", "4242");
        assertThat(n.attach(t, CREDS)).as("attach of an attached image").isEqualTo(a);
        assertThat(launched).hasSize(1);
        String record = Files.readString(state.resolve("attachments").resolve(t.volume().uuid() + ".json"));
        assertThat(record).contains("\"version\" : 1").contains("\"state\" : \"ATTACHED\"").doesNotContain(KEY);

        runner.clearInvocations();
        n.detach(t.volume());
        assertThat(runner.argvs()).containsExactly(List.of("losetup", "-d", "/dev/loop7"),
                List.of("fusermount", "-u", mnt.toString()));
        assertThat(n.find(t.volume())).isEmpty();
        assertThat(mnt).doesNotExist();
        assertThat(state.resolve("attachments").resolve(t.volume().uuid() + ".json")).doesNotExist();
        n.detach(t.volume());
    }

    @Test
    void aDaemonThatDiesBeforeExposingTheImageFailsTheAttachAndLeavesNothing() throws Exception {
        DaemonLauncher dying = (argv, env, log) -> {
            Files.writeString(log, "rbd-fuse: error connecting: (13) Permission denied\n");
            Path p = Files.createDirectories(proc.resolve("77"));
            Files.writeString(p.resolve("stat"), "77 (rbd-fuse) Z 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n");
            return 77;
        };
        NodeAttachments n = new NodeAttachments(state, fuseOnly(), runner, dying, new Procs(proc),
                new LoopDevices(runner, sysBlock, Duration.ofSeconds(5)), Mounts.fromText(() -> ""), Duration.ofSeconds(5));
        AttachTarget t = target(Optional.empty());
        assertThatThrownBy(() -> n.attach(t, CREDS)).isInstanceOf(StorageException.class)
                .hasMessageContaining("rbd-fuse");
        try (var records = Files.list(state.resolve("attachments")); var keys = Files.list(state.resolve("keys"))) {
            assertThat(records.toList()).isEmpty();
            assertThat(keys.toList()).isEmpty();
        }
    }

    @Test
    void krbdMapsWithAKeyFileAndUnmapsTheDevice() throws Exception {
        runner.onPrefix("rbd", "-c", "/dev/null").thenSucceed("/dev/rbd3\n");
        runner.onPrefix("rbd", "unmap").thenSucceed();
        HostSupport host = new HostSupport(true, false, Optional.empty(), "", "rbd-fuse is not installed");
        NodeAttachments n = node(host);
        AttachTarget t = new AttachTarget(ObjectId.newVolume("rbd", "ceph-a", "0000000000000003"), "ceph-a", MONS,
                "pool", "img", Optional.empty(), true);
        Attachment a = n.attach(t, CREDS);
        assertThat(a.device()).isEqualTo(Path.of("/dev/rbd3"));
        List<String> map = runner.argvs().get(0);
        assertThat(map.subList(0, 7)).containsExactly("rbd", "-c", "/dev/null", "-m", MONS, "--id", "csi");
        assertThat(map.get(7)).isEqualTo("--keyfile");
        assertThat(map.subList(9, map.size())).containsExactly("map", "pool/img", "--read-only");
        assertThat(String.join(" ", map)).doesNotContain(KEY);
        assertThat(Files.exists(Path.of(map.get(8)))).as("key file deleted after the map").isFalse();
        assertThat(Krbd.mapCommand(MONS, "csi", Path.of("/k"), "p", "i", false))
                .containsExactly("rbd", "-c", "/dev/null", "-m", MONS, "--id", "csi", "--keyfile", "/k", "map", "p/i");
        runner.clearInvocations();
        n.detach(t.volume());
        assertThat(runner.argvs()).containsExactly(List.of("rbd", "unmap", "/dev/rbd3"));
    }

    @Test
    void aMounterTheHostLacksIsAFailedPrecondition() throws Exception {
        NodeAttachments n = node(fuseOnly());
        assertThatThrownBy(() -> n.attach(target(Optional.of(Mounter.KRBD)), CREDS))
                .isInstanceOf(StorageException.FailedPrecondition.class).hasMessageContaining("krbd")
                .hasMessageContaining("no rbd driver");
        NodeAttachments none = node(new HostSupport(false, false, Optional.empty(), "no rbd", "no rbd-fuse"));
        assertThatThrownBy(() -> none.attach(target(Optional.empty()), CREDS))
                .isInstanceOf(StorageException.FailedPrecondition.class).hasMessageContaining("no rbd-fuse");
    }

    @Test
    void aRestartAdoptsLiveDaemonsAndHealsDeadOnesWithTheCredentialFile() throws Exception {
        NodeAttachments n = node(fuseOnly());
        AttachTarget live = target(Optional.empty());
        AttachTarget dies = target(Optional.empty());
        Attachment liveBefore = n.attach(live, CREDS);
        Attachment before = n.attach(dies, CREDS);
        long deadPid = Long.parseLong(before.state().get("pid"));
        deleteTree(proc.resolve(Long.toString(deadPid)));

        // without a credential file: nothing is done, the record stays
        NodeAttachments restarted = node(fuseOnly());
        assertThat(restarted.heal(cluster -> Optional.empty())).isZero();
        assertThat(restarted.find(dies.volume())).isEmpty();
        assertThat(restarted.find(live.volume())).as("the live daemon is adopted").isPresent();

        runner.clearInvocations();
        Path device = before.device();
        runner.onPrefix("losetup", device.toString()).thenAnswer(c -> {
            String file = c.argv().get(c.argv().size() - 1);
            io(() -> Files.writeString(sysBlock.resolve(device.getFileName() + "/loop/backing_file"), file + "\n"));
            return new CommandResult(c.argv(), 0, "", "", Duration.ZERO);
        });
        assertThat(restarted.heal(cluster -> Optional.of(CREDS))).isEqualTo(1);
        assertThat(launched).hasSize(3);
        assertThat(runner.argvs()).as("the unused loop device is detached and re-attached under its name")
                .containsSubsequence(List.of("losetup", "-d", device.toString()),
                        List.of("losetup", device.toString(), before.state().get("mountpoint") + "/" + dies.image()));
        Attachment healed = restarted.find(dies.volume()).orElseThrow();
        assertThat(healed.device()).isEqualTo(device);
        assertThat(healed.state().get("pid")).isNotEqualTo(Long.toString(deadPid));
        assertThat(restarted.find(live.volume())).as("the live attachment is adopted untouched").contains(liveBefore);
        assertThat(runner.argvs()).as("no command touched the live attachment")
                .noneMatch(argv -> argv.contains(liveBefore.device().toString())
                        || argv.contains(liveBefore.state().get("mountpoint")));
    }

    /** A file step inside a scripted command answer. */
    private interface IoStep {
        void run() throws IOException;
    }

    private static void io(IoStep step) {
        try {
            step.run();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var s = Files.walk(p)) {
            for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        }
    }
}
