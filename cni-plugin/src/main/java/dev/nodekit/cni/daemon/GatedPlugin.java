package dev.nodekit.cni.daemon;

import java.util.List;

import dev.nodekit.cni.api.CniPlugin;
import dev.nodekit.cni.api.CniRequest;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.CniVersion;
import dev.nodekit.spec.cni.Result;

/** A plugin whose every call passes the daemon's {@link CallGate} first (VERSION never reaches it). */
final class GatedPlugin implements CniPlugin {
    private final CniPlugin plugin;
    private final CallGate gate;

    GatedPlugin(CniPlugin plugin, CallGate gate) {
        this.plugin = plugin;
        this.gate = gate;
    }

    @Override
    public Result add(CniRequest request) throws CniException {
        try (CallGate.Pass p = gate.enter(request)) {
            return plugin.add(request);
        }
    }

    @Override
    public void del(CniRequest request) throws CniException {
        try (CallGate.Pass p = gate.enter(request)) {
            plugin.del(request);
        }
    }

    @Override
    public void check(CniRequest request) throws CniException {
        try (CallGate.Pass p = gate.enter(request)) {
            plugin.check(request);
        }
    }

    @Override
    public void status(CniRequest request) throws CniException {
        try (CallGate.Pass p = gate.enter(request)) {
            plugin.status(request);
        }
    }

    @Override
    public void gc(CniRequest request) throws CniException {
        try (CallGate.Pass p = gate.enter(request)) {
            plugin.gc(request);
        }
    }

    @Override
    public List<CniVersion> supportedVersions() {
        return plugin.supportedVersions();
    }

    @Override
    public String about() {
        return plugin.about();
    }
}
