package dev.nodekit.cni.launch;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Random;

import dev.nodekit.cni.api.CniDispatcher;
import dev.nodekit.cni.api.CniPlugin;
import dev.nodekit.cni.api.Delegates;
import dev.nodekit.cni.api.ExecPlugin;
import dev.nodekit.cni.bridge.BridgePlugin;
import dev.nodekit.cni.hostlocal.HostLocalPlugin;
import dev.nodekit.cni.ipam.FileLocker;
import dev.nodekit.cni.ipam.FlockLocker;
import dev.nodekit.cni.ipam.HostLocalIpam;
import dev.nodekit.cni.loopback.LoopbackPlugin;
import dev.nodekit.cni.net.IpMasq;
import dev.nodekit.cni.net.SysfsLinks;
import dev.nodekit.cni.net.Sysctls;
import dev.nodekit.common.exec.CommandRunner;

/**
 * The {@code main} of nodekit's CNI executables: {@code PluginMain <type>} where type is
 * {@code nodekit-bridge}, {@code nodekit-host-local} or {@code nodekit-loopback} (the launcher
 * scripts written by {@code nodekit cni install} pass it). The only place that hands the real
 * environment, stdin, stdout and stderr to a {@link CniDispatcher}. {@code System.out} is redirected
 * to stderr first, so no library can write into the result.
 */
public final class PluginMain {
    private PluginMain() {
    }

    /** Runs one CNI call and exits with the dispatcher's code. */
    public static void main(String[] args) {
        PrintStream stdout = System.out;
        System.setOut(System.err);
        String type = args.length > 0 ? args[0] : "";
        CniPlugin plugin = plugin(type, new LeanCommandRunner(), System.err);
        int code;
        if (plugin == null) {
            System.err.println("usage: PluginMain nodekit-bridge|nodekit-host-local|nodekit-loopback (got '" + type + "')");
            code = 2;
        } else {
            code = new CniDispatcher(plugin).run(System.getenv(), System.in, stdout, System.err);
        }
        stdout.flush();
        System.exit(code);
    }

    /** The plugin called {@code type} with its real dependencies, or null for an unknown type. */
    public static CniPlugin plugin(String type, CommandRunner runner, OutputStream stderr) {
        return plugin(type, runner, stderr, new FlockLocker());
    }

    /**
     * The plugin called {@code type} taking IPAM locks with {@code locker} (the CNI daemon passes one
     * that queues its own calls in memory first), or null for an unknown type.
     */
    public static CniPlugin plugin(String type, CommandRunner runner, OutputStream stderr, FileLocker locker) {
        switch (type) {
            case BridgePlugin.TYPE:
                return bridge(runner, stderr, locker);
            case HostLocalPlugin.TYPE:
                return hostLocal(locker);
            case LoopbackPlugin.TYPE:
                return new LoopbackPlugin(runner);
            default:
                return null;
        }
    }

    private static HostLocalPlugin hostLocal(FileLocker locker) {
        return new HostLocalPlugin(new HostLocalIpam(locker, HostLocalIpam.DEFAULT_LOCK_TIMEOUT));
    }

    private static BridgePlugin bridge(CommandRunner runner, OutputStream stderr, FileLocker locker) {
        final HostLocalPlugin ipam = hostLocal(locker);
        Delegates delegates = new Delegates(new Delegates.InProcess() {
            @Override
            public CniPlugin lookup(String ipamType) {
                return HostLocalPlugin.TYPE.equals(ipamType) ? ipam : null;
            }
        }, runner, stderr, ExecPlugin.DEFAULT_TIMEOUT);
        return new BridgePlugin(runner, delegates, SysfsLinks.system(), Sysctls.system(),
                new IpMasq(runner, IpMasq.DEFAULT_LOCK_WAIT), seededRandom());
    }

    /** A Random seeded from /dev/urandom: veth names and MACs must differ between processes started together. */
    private static Random seededRandom() {
        long seed = System.nanoTime() ^ ProcessHandle.current().pid() << 32;
        try (InputStream in = new FileInputStream("/dev/urandom")) {
            byte[] b = in.readNBytes(8);
            for (byte x : b) {
                seed = (seed << 8) ^ (x & 0xff) ^ (seed >>> 56);
            }
        } catch (IOException e) {
            // nanoTime and pid still differ between processes.
        }
        return new Random(seed);
    }

}
