package dev.nodekit.cni.hostlocal;

import java.util.List;
import java.util.Optional;

import dev.nodekit.cni.api.CniPlugin;
import dev.nodekit.cni.api.CniRequest;
import dev.nodekit.cni.ipam.HostLocalConfig;
import dev.nodekit.cni.ipam.HostLocalIpam;
import dev.nodekit.common.cli.BuildInfo;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.GcAttachment;
import dev.nodekit.spec.cni.Result;

/**
 * {@code nodekit-host-local}: the IPAM plugin, a drop-in for the Go {@code host-local} that shares its
 * on-disk state (see {@link dev.nodekit.cni.ipam}) and adds GC and STATUS. Also called in-process by
 * {@code nodekit-bridge} when the configuration's {@code ipam.type} names it.
 */
public final class HostLocalPlugin implements CniPlugin {
    /** The executable name. */
    public static final String TYPE = "nodekit-host-local";

    private final HostLocalIpam ipam;

    /** The plugin over {@code ipam}. */
    public HostLocalPlugin(HostLocalIpam ipam) {
        if (ipam == null) {
            throw new IllegalArgumentException("ipam is required");
        }
        this.ipam = ipam;
    }

    @Override
    public Result add(CniRequest request) throws CniException {
        HostLocalConfig c = HostLocalConfig.from(request.config(), request.args());
        return ipam.add(c, request.requiredContainerId(), request.requiredIfName());
    }

    @Override
    public void del(CniRequest request) throws CniException {
        HostLocalConfig c = HostLocalConfig.from(request.config(), request.args());
        ipam.del(c, request.requiredContainerId(), request.requiredIfName());
    }

    @Override
    public void check(CniRequest request) throws CniException {
        HostLocalConfig c = HostLocalConfig.from(request.config(), request.args());
        Optional<Result> prev = request.config().prevResult();
        ipam.check(c, request.requiredContainerId(), request.requiredIfName(), prev);
    }

    @Override
    public void status(CniRequest request) throws CniException {
        ipam.status(HostLocalConfig.from(request.config(), request.args()));
    }

    /**
     * Releases allocations of attachments the runtime no longer lists. A GC request without
     * {@code cni.dev/valid-attachments} (or the older {@code cni.dev/attachments}) is refused rather
     * than read as "nothing is valid".
     */
    @Override
    public void gc(CniRequest request) throws CniException {
        Optional<List<GcAttachment>> valid = request.config().gcAttachments();
        if (valid.isEmpty()) {
            throw new CniException(CniError.INVALID_NETWORK_CONFIG, "GC without cni.dev/valid-attachments",
                    "refusing to treat a missing list as 'release everything'");
        }
        ipam.gc(HostLocalConfig.from(request.config(), request.args()), valid.get());
    }

    @Override
    public String about() {
        return TYPE + " " + BuildInfo.current().versionWithCommit() + " (host-local compatible IPAM)";
    }
}
