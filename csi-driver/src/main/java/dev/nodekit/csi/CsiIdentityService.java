package dev.nodekit.csi;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import com.google.protobuf.BoolValue;

import dev.nodekit.spec.csi.v1.GetPluginCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.GetPluginCapabilitiesResponse;
import dev.nodekit.spec.csi.v1.GetPluginInfoRequest;
import dev.nodekit.spec.csi.v1.GetPluginInfoResponse;
import dev.nodekit.spec.csi.v1.IdentityGrpc;
import dev.nodekit.spec.csi.v1.PluginCapability;
import dev.nodekit.spec.csi.v1.ProbeRequest;
import dev.nodekit.spec.csi.v1.ProbeResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/**
 * CSI Identity: who the plugin is, what it can do, and whether it is healthy. Every CSI process
 * serves it, whatever its role. Probe answers {@code ready=false} while the driver starts and
 * FAILED_PRECONDITION with the reason while its backend is unhealthy (the CSI spec's code for a
 * missing dependency); livenessprobe turns that into a failing /healthz.
 *
 * <p>nodekit's driver advertises {@link #driverCapabilities(boolean)}: CONTROLLER_SERVICE (when the
 * process serves the controller), VOLUME_ACCESSIBILITY_CONSTRAINTS (volumes live on the node that
 * holds their data) and online volume expansion.
 */
public final class CsiIdentityService extends IdentityGrpc.IdentityImplBase {
    /** CSI: at most 63 characters, alphanumeric at both ends, '-', '.' and alphanumerics between. */
    static final Pattern DRIVER_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,61}[A-Za-z0-9])?");

    private final GetPluginInfoResponse info;
    private final GetPluginCapabilitiesResponse capabilities;
    private final Supplier<Health> health;

    /** The driver's health as Probe reports it. */
    public sealed interface Health {
        /** Ready to serve. */
        record Ready() implements Health { }

        /** Still starting (Probe answers OK with ready=false). */
        record Starting(String what) implements Health { }

        /** Not able to serve; Probe answers FAILED_PRECONDITION with the reason. */
        record Unhealthy(String reason) implements Health { }
    }

    /**
     * @param driverName   the CSI driver name, e.g. {@code local.csi.nodekit.dev}
     * @param version      the vendor version (required by the spec)
     * @param capabilities the plugin capabilities to advertise
     * @param health       asked on every Probe; must be cheap
     */
    public CsiIdentityService(String driverName, String version, List<PluginCapability> capabilities,
            Supplier<Health> health) {
        Objects.requireNonNull(driverName, "driverName");
        if (!DRIVER_NAME.matcher(driverName).matches()) {
            throw new IllegalArgumentException("driver name '" + driverName
                    + "' must be at most 63 characters, alphanumeric at both ends, with '-', '.' and alphanumerics between");
        }
        if (version == null || version.isBlank()) {
            throw new IllegalArgumentException("driver version must not be empty");
        }
        this.info = GetPluginInfoResponse.newBuilder().setName(driverName).setVendorVersion(version).build();
        this.capabilities = GetPluginCapabilitiesResponse.newBuilder().addAllCapabilities(capabilities).build();
        this.health = Objects.requireNonNull(health, "health");
    }

    /**
     * The plugin capabilities of nodekit's driver: CONTROLLER_SERVICE when {@code controller},
     * VOLUME_ACCESSIBILITY_CONSTRAINTS, and VolumeExpansion ONLINE (volumes grow while published:
     * XFS online, ext4 online where the host allows it and at the next stage otherwise).
     */
    public static List<PluginCapability> driverCapabilities(boolean controller) {
        List<PluginCapability> caps = new ArrayList<>();
        if (controller) {
            caps.add(service(PluginCapability.Service.Type.CONTROLLER_SERVICE));
        }
        caps.add(service(PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS));
        caps.add(PluginCapability.newBuilder().setVolumeExpansion(PluginCapability.VolumeExpansion.newBuilder()
                .setType(PluginCapability.VolumeExpansion.Type.ONLINE)).build());
        return List.copyOf(caps);
    }

    private static PluginCapability service(PluginCapability.Service.Type type) {
        return PluginCapability.newBuilder().setService(PluginCapability.Service.newBuilder().setType(type)).build();
    }

    @Override
    public void getPluginInfo(GetPluginInfoRequest request, StreamObserver<GetPluginInfoResponse> out) {
        out.onNext(info);
        out.onCompleted();
    }

    @Override
    public void getPluginCapabilities(GetPluginCapabilitiesRequest request,
            StreamObserver<GetPluginCapabilitiesResponse> out) {
        out.onNext(capabilities);
        out.onCompleted();
    }

    @Override
    public void probe(ProbeRequest request, StreamObserver<ProbeResponse> out) {
        Health h = health.get();
        if (h instanceof Health.Unhealthy u) {
            out.onError(Status.FAILED_PRECONDITION.withDescription("driver unhealthy: " + u.reason()).asRuntimeException());
            return;
        }
        out.onNext(ProbeResponse.newBuilder().setReady(BoolValue.of(h instanceof Health.Ready)).build());
        out.onCompleted();
    }
}
