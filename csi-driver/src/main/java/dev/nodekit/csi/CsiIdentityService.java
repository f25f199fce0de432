package dev.nodekit.csi;

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
