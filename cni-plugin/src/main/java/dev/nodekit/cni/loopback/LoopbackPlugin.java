package dev.nodekit.cni.loopback;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.nodekit.cni.api.CniPlugin;
import dev.nodekit.cni.api.CniRequest;
import dev.nodekit.cni.net.IpBatch;
import dev.nodekit.cni.net.IpNetwork;
import dev.nodekit.cni.net.LinkState;
import dev.nodekit.cni.net.NetNs;
import dev.nodekit.cni.net.NoSuchNetNsException;
import dev.nodekit.common.cli.BuildInfo;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.CniVersion;
import dev.nodekit.spec.cni.Interface;
import dev.nodekit.spec.cni.IpConfig;
import dev.nodekit.spec.cni.Result;

/**
 * {@code nodekit-loopback}: brings {@code CNI_IFNAME} (normally {@code lo}) up in the pod's namespace,
 * as the Go {@code loopback} plugin does. ADD returns the interface with its loopback addresses, or
 * the {@code prevResult} unchanged when chained; DEL brings it down and succeeds when the namespace
 * is already gone; CHECK verifies it is up.
 */
public final class LoopbackPlugin implements CniPlugin {
    /** The executable name. */
    public static final String TYPE = "nodekit-loopback";

    private final CommandRunner runner;

    /** The plugin running {@code nsenter}/{@code ip} through {@code runner}. */
    public LoopbackPlugin(CommandRunner runner) {
        if (runner == null) {
            throw new IllegalArgumentException("runner is required");
        }
        this.runner = runner;
    }

    @Override
    public Result add(CniRequest request) throws CniException {
        Path path = request.requiredNetns();
        String ifName = request.requiredIfName();
        NetNs ns = NetNs.at(path, runner);
        ns.apply(new IpBatch().add("link", "set", "dev", ifName, "up"));
        if (request.config().prevResult().isPresent()) {
            return request.config().prevResult().get();
        }
        Optional<LinkState> link = ns.link(ifName);
        if (link.isEmpty()) {
            throw new CniException(CniError.INTERNAL, "interface " + ifName + " vanished from " + path);
        }
        List<IpConfig> ips = new ArrayList<>(2);
        IpNetwork v4 = first(link.get(), 4);
        IpNetwork v6 = first(link.get(), 6);
        if (v4 != null) {
            ips.add(IpConfig.of(v4.toString()).withInterface(0));
        }
        if (v6 != null) {
            ips.add(IpConfig.of(v6.toString()).withInterface(0));
        }
        Interface lo = Interface.container(ifName, "00:00:00:00:00:00", path.toString());
        return new Result(CniVersion.LATEST, List.of(lo), ips, List.of(), Optional.empty(), Map.of());
    }

    private static IpNetwork first(LinkState link, int family) {
        for (LinkState.AddressState a : link.addresses()) {
            if (a.address().family() == family) {
                return a.address();
            }
        }
        return null;
    }

    @Override
    public void del(CniRequest request) throws CniException {
        if (request.netns().isEmpty()) {
            return;
        }
        NetNs ns = NetNs.at(request.netns().get(), runner);
        try {
            ns.apply(new IpBatch().add("link", "set", "dev", request.requiredIfName(), "down"));
        } catch (NoSuchNetNsException gone) {
            // Nothing to bring down.
        } catch (CniException e) {
            if (ns.link(request.requiredIfName()).isPresent()) {
                throw e;
            }
        }
    }

    @Override
    public void check(CniRequest request) throws CniException {
        Path path = request.requiredNetns();
        String ifName = request.requiredIfName();
        Optional<LinkState> link = NetNs.at(path, runner).link(ifName);
        if (link.isEmpty()) {
            throw new CniException(CniError.INTERNAL, "interface " + ifName + " not found in " + path);
        }
        if (!link.get().up()) {
            throw new CniException(CniError.INTERNAL, "interface " + ifName + " in " + path + " is down");
        }
    }

    @Override
    public String about() {
        return TYPE + " " + BuildInfo.current().versionWithCommit();
    }
}
