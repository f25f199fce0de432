package dev.nodekit.cni.launch;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import dev.nodekit.cni.api.CniDispatcher;
import dev.nodekit.cni.api.CniPlugin;
import dev.nodekit.cni.api.Delegates;
import dev.nodekit.cni.bridge.BridgePlugin;
import dev.nodekit.cni.hostlocal.HostLocalPlugin;
import dev.nodekit.cni.ipam.FlockLocker;
import dev.nodekit.cni.ipam.HostLocalIpam;
import dev.nodekit.cni.loopback.LoopbackPlugin;
import dev.nodekit.cni.net.IpMasq;
import dev.nodekit.cni.net.SysfsLinks;
import dev.nodekit.cni.net.Sysctls;
import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;

/**
 * The training run behind the class-data archive that {@code nodekit cni install} builds
 * ({@code -XX:ArchiveClassesAtExit} on JDK 17, {@code -XX:AOTCacheOutput} on JDK 25): every plugin's
 * ADD, CHECK, DEL, STATUS, GC and VERSION through the real {@link CniDispatcher}, plus the error paths,
 * so the classes a real call loads are in the archive. host-local works on a temporary directory with
 * the real lock; the bridge and loopback run against a scripted runner and a fake sysfs/procfs, so
 * training never touches the node's network. One real {@link LeanCommandRunner} exec loads the
 * process-spawning classes.
 *
 * <p>{@code Training <scratch dir>}; exits 0 when every call gave the expected answer.
 */
public final class Training {
    private Training() {
    }

    /** Runs the training calls in {@code args[0]} (a scratch directory, emptied afterwards). */
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: Training <scratch dir>");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        OutputStream quiet = OutputStream.nullOutputStream();
        int failures = 0;
        try {
            failures += run(dir, quiet);
        } finally {
            deleteTree(dir);
        }
        System.exit(failures == 0 ? 0 : 1);
    }

    static int run(Path dir, OutputStream quiet) throws Exception {
        new LeanCommandRunner().run(Command.of("true").withTimeout(Duration.ofSeconds(10)));
        int failures = 0;
        Path data = dir.resolve("data");
        Path sys = dir.resolve("sys");
        Path proc = dir.resolve("proc");
        Path netns = dir.resolve("netns");
        Files.createDirectories(sys.resolve("nktrain0/bridge"));
        Files.writeString(sys.resolve("nktrain0/address"), "02:00:00:00:00:01\n");
        Files.createDirectories(proc.resolve("net/ipv4"));
        Files.writeString(proc.resolve("net/ipv4/ip_forward"), "1\n");
        Files.writeString(netns, "");

        HostLocalPlugin hostLocal = new HostLocalPlugin(new HostLocalIpam(new FlockLocker(), Duration.ofSeconds(10)));
        String hlConf = "{\"cniVersion\":\"1.1.0\",\"name\":\"nktrain\",\"type\":\"nodekit-host-local\","
                + "\"ipam\":{\"type\":\"nodekit-host-local\",\"ranges\":[[{\"subnet\":\"10.255.254.0/24\"}],"
                + "[{\"subnet\":\"fd00:ffff::/64\"}]],\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dataDir\":\""
                + data + "\"}}";
        failures += expect(hostLocal, "ADD", hlConf, netns, 0, quiet);
        failures += expect(hostLocal, "CHECK", hlConf, netns, 0, quiet);
        failures += expect(hostLocal, "STATUS", hlConf, netns, 0, quiet);
        failures += expect(hostLocal, "GC", withGc(hlConf), netns, 0, quiet);
        failures += expect(hostLocal, "DEL", hlConf, netns, 0, quiet);
        failures += expect(hostLocal, "VERSION", "{}", netns, 0, quiet);
        failures += expect(hostLocal, "ADD", "{\"cniVersion\":\"1.0.0\",", netns, 1, quiet);
        failures += expect(hostLocal, "ADD", "{\"cniVersion\":\"9.9.9\",\"name\":\"x\",\"type\":\"y\"}", netns, 1, quiet);

        ScriptedRunner fake = new ScriptedRunner(sys);
        CniPlugin bridge = new BridgePlugin(fake, new Delegates(new Delegates.InProcess() {
            @Override
            public CniPlugin lookup(String type) {
                return HostLocalPlugin.TYPE.equals(type) ? hostLocal : null;
            }
        }, fake, quiet, Duration.ofSeconds(10)), new SysfsLinks(sys), new Sysctls(proc),
                new IpMasq(fake, Duration.ofSeconds(5)), new Random(1));
        String brConf = "{\"cniVersion\":\"1.0.0\",\"name\":\"nktrain\",\"type\":\"nodekit-bridge\","
                + "\"bridge\":\"nktrain0\",\"isGateway\":true,\"ipMasq\":true,"
                + "\"ipam\":{\"type\":\"nodekit-host-local\",\"ranges\":[[{\"subnet\":\"10.255.254.0/24\"}]],"
                + "\"dataDir\":\"" + data + "\"}}";
        failures += expect(bridge, "ADD", brConf, netns, 0, quiet);
        failures += expect(bridge, "CHECK", brConf, netns, 1, quiet);
        failures += expect(bridge, "DEL", brConf, netns, 0, quiet);
        // A bridge name that exists but is not a bridge: ADD fails before any side effect.
        Files.createDirectories(sys.resolve("nktrain1"));
        failures += expect(bridge, "ADD", brConf.replace("nktrain0", "nktrain1"), netns, 1, quiet);
        failures += expect(bridge, "STATUS", brConf.replace("1.0.0", "1.1.0"), netns, 0, quiet);

        CniPlugin loopback = new LoopbackPlugin(fake);
        String loConf = "{\"cniVersion\":\"1.0.0\",\"name\":\"nktrain\",\"type\":\"nodekit-loopback\"}";
        failures += expectIf(loopback, "ADD", loConf, netns, "lo", 0, quiet);
        failures += expectIf(loopback, "DEL", loConf, netns, "lo", 0, quiet);
        return failures;
    }

    private static String withGc(String conf) {
        return conf.substring(0, conf.length() - 1)
                + ",\"cni.dev/valid-attachments\":[{\"containerID\":\"nktrain\",\"ifname\":\"eth0\"}]}";
    }

    private static int expect(CniPlugin p, String cmd, String conf, Path netns, int code, OutputStream quiet) {
        return expectIf(p, cmd, conf, netns, "eth0", code, quiet);
    }

    private static int expectIf(CniPlugin p, String cmd, String conf, Path netns, String ifName, int code,
            OutputStream quiet) {
        Map<String, String> env = new HashMap<>();
        env.put("CNI_COMMAND", cmd);
        env.put("CNI_CONTAINERID", "nktrain");
        env.put("CNI_NETNS", netns.toString());
        env.put("CNI_IFNAME", ifName);
        env.put("CNI_PATH", "/nonexistent");
        env.put("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAME=train");
        int rc = new CniDispatcher(p, netns.resolveSibling("no-such-own-netns")).run(env,
                new ByteArrayInputStream(conf.getBytes(StandardCharsets.UTF_8)), quiet, quiet);
        if (rc != code) {
            System.err.println("training: " + p.about() + " " + cmd + " exited " + rc + ", expected " + code);
            return 1;
        }
        return 0;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    /**
     * Answers the plugins' commands with plausible output without running anything; a veth created by
     * a batch appears in the fake sysfs (up), as the kernel would show it.
     */
    static final class ScriptedRunner implements CommandRunner {
        private final Path sys;

        ScriptedRunner(Path sys) {
            this.sys = sys;
        }

        @Override
        public CommandResult run(Command command) throws CommandException {
            List<String> argv = command.argv();
            String stdin = new String(command.stdin(), StandardCharsets.UTF_8);
            for (String line : stdin.split("\n")) {
                String[] t = line.split(" ");
                if (t.length > 3 && "link".equals(t[0]) && "add".equals(t[1]) && line.contains(" type veth ")) {
                    try {
                        Path d = Files.createDirectories(sys.resolve(t[2]));
                        Files.writeString(d.resolve("operstate"), "up\n");
                        Files.writeString(d.resolve("address"), "02:00:00:00:00:02\n");
                    } catch (IOException e) {
                        throw new CommandException(argv, "fake sysfs: " + e.getMessage(), e);
                    }
                }
            }
            String dev = "lo";
            int i = argv.indexOf("dev");
            if (i >= 0 && i + 1 < argv.size()) {
                dev = argv.get(i + 1);
            }
            String out = "";
            if (argv.contains("-j")) {
                out = "[{\"ifindex\":3,\"link_index\":4,\"ifname\":\"" + dev + "\",\"flags\":[\"UP\"],"
                        + "\"mtu\":1500,\"operstate\":\"UP\",\"address\":\"02:00:00:00:00:03\","
                        + "\"linkinfo\":{\"info_kind\":\"veth\"},\"addr_info\":["
                        + "{\"family\":\"inet\",\"local\":\"127.0.0.1\",\"prefixlen\":8,\"scope\":\"host\"},"
                        + "{\"family\":\"inet6\",\"local\":\"::1\",\"prefixlen\":128,\"scope\":\"host\"}]},"
                        + "{\"ifindex\":2,\"ifname\":\"nktrain0\",\"flags\":[\"UP\"],\"mtu\":1500,"
                        + "\"operstate\":\"UP\",\"address\":\"02:00:00:00:00:01\",\"linkinfo\":{\"info_kind\":\"bridge\"},"
                        + "\"addr_info\":[{\"family\":\"inet\",\"local\":\"10.255.254.1\",\"prefixlen\":24,"
                        + "\"scope\":\"global\"}]}]";
            } else if (argv.contains("-S")) {
                out = "-P POSTROUTING ACCEPT\n";
            }
            return new CommandResult(argv, 0, out, "", Duration.ZERO);
        }
    }
}
