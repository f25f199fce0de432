package dev.nodekit.cni.daemon;

import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.nodekit.cni.api.CniPlugin;
import dev.nodekit.cni.bridge.BridgePlugin;
import dev.nodekit.cni.hostlocal.HostLocalPlugin;
import dev.nodekit.cni.install.CniInstaller;
import dev.nodekit.cni.ipam.FileLocker;
import dev.nodekit.cni.launch.PluginMain;
import dev.nodekit.cni.loopback.LoopbackPlugin;
import dev.nodekit.common.exec.CommandRunner;

/**
 * The plugins the daemon serves, by the executable name the thin client sends: nodekit's three
 * plugins and {@code loopback} (the alias containerd runs). One instance each serves every call:
 * the plugins keep no per-call state, and the bridge calls the same host-local instance in-process.
 */
public final class DaemonPlugins {
    private DaemonPlugins() {
    }

    /**
     * nodekit's plugins on {@code runner}, IPAM locks through {@code locker} (an
     * {@link dev.nodekit.cni.ipam.InProcessLocker} in front of {@code flock}), exec'd delegates'
     * stderr to {@code stderr} (the daemon's log).
     */
    public static Map<String, CniPlugin> standard(CommandRunner runner, FileLocker locker, OutputStream stderr) {
        Map<String, CniPlugin> m = new LinkedHashMap<>();
        for (String type : CniInstaller.PLUGINS) {
            m.put(type, PluginMain.plugin(type, runner, stderr, locker));
        }
        m.put(CniInstaller.LOOPBACK_ALIAS, m.get(LoopbackPlugin.TYPE));
        if (m.get(BridgePlugin.TYPE) == null || m.get(HostLocalPlugin.TYPE) == null) {
            throw new IllegalStateException("plugin list and PluginMain disagree");
        }
        return m;
    }
}
