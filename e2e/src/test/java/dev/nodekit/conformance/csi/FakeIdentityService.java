package dev.nodekit.conformance.csi;

import java.util.function.Supplier;

import dev.nodekit.spec.csi.v1.GetPluginCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.GetPluginCapabilitiesResponse;
import dev.nodekit.spec.csi.v1.GetPluginInfoRequest;
import dev.nodekit.spec.csi.v1.GetPluginInfoResponse;
import dev.nodekit.spec.csi.v1.IdentityGrpc;
import dev.nodekit.spec.csi.v1.PluginCapability;
import dev.nodekit.spec.csi.v1.ProbeRequest;
import dev.nodekit.spec.csi.v1.ProbeResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

/** Identity of {@link FakePlugin}: its name, the capabilities it is configured with, always ready. */
final class FakeIdentityService extends IdentityGrpc.IdentityImplBase {
    private final FakePlugin f;

    FakeIdentityService(FakePlugin f) {
        this.f = f;
    }

    /** Sends what {@code body} returns, or the status it throws (anything else as INTERNAL with its text). */
    static <T> void answer(FakePlugin f, StreamObserver<T> out, FakeBody<T> body) {
        T result;
        try {
            result = body.get();
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        } catch (Exception e) {
            out.onError(f.error(Status.Code.INTERNAL, e.toString()));
            return;
        }
        out.onNext(result);
        out.onCompleted();
    }

    /** One RPC's work. */
    @FunctionalInterface
    interface FakeBody<T> {
        T get() throws Exception;
    }

    @Override
    public void getPluginInfo(GetPluginInfoRequest request, StreamObserver<GetPluginInfoResponse> out) {
        answer(f, out, () -> GetPluginInfoResponse.newBuilder().setName("fake.csi.nodekit.dev")
                .setVendorVersion("1.0.0").build());
    }

    @Override
    public void getPluginCapabilities(GetPluginCapabilitiesRequest request,
            StreamObserver<GetPluginCapabilitiesResponse> out) {
        answer(f, out, () -> {
            GetPluginCapabilitiesResponse.Builder b = GetPluginCapabilitiesResponse.newBuilder();
            Supplier<PluginCapability.Service.Builder> svc = PluginCapability.Service::newBuilder;
            if (f.controllerService) {
                b.addCapabilities(PluginCapability.newBuilder().setService(svc.get()
                        .setType(PluginCapability.Service.Type.CONTROLLER_SERVICE)));
            }
            if (f.accessibility) {
                b.addCapabilities(PluginCapability.newBuilder().setService(svc.get()
                        .setType(PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS)));
            }
            if (f.expansion != null) {
                b.addCapabilities(PluginCapability.newBuilder().setVolumeExpansion(
                        PluginCapability.VolumeExpansion.newBuilder().setType(f.expansion)));
            }
            return b.build();
        });
    }

    @Override
    public void probe(ProbeRequest request, StreamObserver<ProbeResponse> out) {
        answer(f, out, () -> ProbeResponse.newBuilder().setReady(com.google.protobuf.BoolValue.of(true)).build());
    }
}
