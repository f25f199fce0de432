package dev.nodekit.crishim;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import com.google.protobuf.Message;

import dev.nodekit.crishim.api.CriMethod;
import dev.nodekit.spec.cri.v1.ImageSpec;
import dev.nodekit.spec.cri.v1.ImageStatusRequest;
import dev.nodekit.spec.cri.v1.PullImageRequest;
import dev.nodekit.spec.cri.v1.RemoveImageRequest;
import dev.nodekit.spec.cri.v1.RunPodSandboxRequest;
import io.grpc.Status;
import io.grpc.StatusException;

/**
 * Chooses the upstream(s) of each call and keeps the id map current. With one upstream every
 * method is {@link RouteKind#PRIMARY} and nothing here runs on the call path.
 */
final class Router {
    private final Upstreams upstreams;
    private final RoutingConfig config;
    private final IdMap ids;
    private final Upstream imageUpstream;

    Router(Upstreams upstreams, RoutingConfig config, IdMap ids) {
        this.upstreams = upstreams;
        this.config = config;
        this.ids = ids;
        this.imageUpstream = config.images().upstream().isEmpty() ? upstreams.primary()
                : upstreams.named(config.images().upstream()).orElseThrow();
    }

    /** The route of a method; {@code method} is null for methods the shim does not know. */
    RouteKind kindFor(CriMethod<?, ?> method) {
        if (upstreams.single() || method == null) {
            return RouteKind.PRIMARY;
        }
        return switch (method.name()) {
            case "RunPodSandbox" -> RouteKind.POD_CREATE;
            case "StopPodSandbox", "RemovePodSandbox", "PodSandboxStatus", "PodSandboxStats", "PortForward",
                    "UpdatePodSandboxResources", "CreateContainer" -> RouteKind.BY_POD;
            case "StartContainer", "StopContainer", "RemoveContainer", "ContainerStatus", "UpdateContainerResources",
                    "ReopenContainerLog", "ExecSync", "Exec", "Attach", "ContainerStats", "CheckpointContainer" ->
                    RouteKind.BY_CONTAINER;
            case "ListPodSandbox", "ListContainers", "ListContainerStats", "ListPodSandboxStats",
                    "ListPodSandboxMetrics" -> RouteKind.FAN_CONCAT;
            case "ListMetricDescriptors" -> RouteKind.FAN_DESCRIPTORS;
            case "StreamPodSandboxes", "StreamContainers", "StreamContainerStats", "StreamPodSandboxStats",
                    "StreamPodSandboxMetrics" -> RouteKind.FAN_STREAM;
            case "GetContainerEvents" -> RouteKind.FAN_EVENTS;
            case "UpdateRuntimeConfig" -> RouteKind.BROADCAST;
            case "ListImages", "ImageFsInfo", "StreamImages" -> RouteKind.IMAGE_PRIMARY;
            case "ImageStatus" -> RouteKind.IMAGE_SPEC;
            case "PullImage", "RemoveImage" -> RouteKind.IMAGE_WRITE;
            default -> RouteKind.PRIMARY; // Version, Status, RuntimeConfig and whatever comes next
        };
    }

    /**
     * Where a call goes. Completes at once except when an id is unknown and the upstreams must be
     * listed first; fails with a {@link StatusException} when the call cannot be routed.
     *
     * @param request the request bytes as forwarded
     * @param decoded the decoded request when {@link RouteKind#needsDecodedRequest()}, else maybe null
     */
    CompletableFuture<Target> route(RouteKind kind, CriMethod<?, ?> method, byte[] request, Message decoded) {
        try {
            return switch (kind) {
                case PRIMARY -> done(Target.single(upstreams.primary()));
                case POD_CREATE -> done(Target.single(podUpstream((RunPodSandboxRequest) decoded)));
                case BY_POD -> byId(method, request, "pod_sandbox_id", true);
                case BY_CONTAINER -> byId(method, request, "container_id", false);
                case FAN_CONCAT -> done(new Target(upstreams.all(), Target.Merge.CONCAT));
                case FAN_DESCRIPTORS -> done(new Target(upstreams.all(), Target.Merge.DESCRIPTORS));
                case FAN_STREAM -> done(new Target(upstreams.all(), Target.Merge.STREAM));
                case FAN_EVENTS -> done(new Target(upstreams.all(), Target.Merge.EVENTS));
                case BROADCAST -> done(new Target(primaryFirst(upstreams.primary()), Target.Merge.FIRST_ANSWERS));
                case IMAGE_PRIMARY -> done(Target.single(imageUpstream));
                case IMAGE_SPEC -> done(Target.single(imageUpstreamFor(imageSpec(decoded))));
                case IMAGE_WRITE -> {
                    Upstream u = imageUpstreamFor(imageSpec(decoded));
                    boolean handlerPinned = !imageSpec(decoded).getRuntimeHandler().isEmpty()
                            && config.runtimeHandlers().containsKey(imageSpec(decoded).getRuntimeHandler());
                    yield done(config.images().replicate() && !handlerPinned
                            ? new Target(primaryFirst(u), Target.Merge.FIRST_ANSWERS) : Target.single(u));
                }
            };
        } catch (StatusException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Learns from a finished call: ids of what was created on which upstream, ids of what was removed. */
    void completed(CriMethod<?, ?> method, byte[] request, byte[] firstResponse, Status status, Target target) {
        if (method == null || !status.isOk() || target.upstreams().size() != 1) {
            return;
        }
        Upstream u = target.upstreams().get(0);
        switch (method.name()) {
            case "RunPodSandbox" -> field(firstResponse, method, "pod_sandbox_id", false)
                    .ifPresent(id -> ids.putPod(id, u));
            case "CreateContainer" -> field(firstResponse, method, "container_id", false)
                    .ifPresent(id -> ids.putContainer(id, u));
            case "RemovePodSandbox" -> field(request, method, "pod_sandbox_id", true).ifPresent(ids::removePod);
            case "RemoveContainer" -> field(request, method, "container_id", true).ifPresent(ids::removeContainer);
            default -> {
                // nothing to learn
            }
        }
    }

    /** Whether {@link #completed} needs the response of this method. */
    boolean learnsFromResponse(CriMethod<?, ?> method) {
        return !upstreams.single() && method != null
                && (method.name().equals("RunPodSandbox") || method.name().equals("CreateContainer"));
    }

    private static Optional<String> field(byte[] message, CriMethod<?, ?> method, String name, boolean inRequest) {
        if (message == null) {
            return Optional.empty();
        }
        Message proto = inRequest ? method.requestPrototype() : method.responsePrototype();
        var field = proto.getDescriptorForType().findFieldByName(name);
        return field == null ? Optional.empty() : WireFields.string(message, field.getNumber()).filter(s -> !s.isEmpty());
    }

    private CompletableFuture<Target> byId(CriMethod<?, ?> method, byte[] request, String fieldName, boolean pod)
            throws StatusException {
        Optional<String> id = field(request, method, fieldName, true);
        if (id.isEmpty()) {
            return done(Target.single(upstreams.primary())); // the runtime answers the missing id
        }
        Optional<Upstream> hit = pod ? ids.pod(id.get()) : ids.container(id.get());
        if (hit.isPresent()) {
            return done(Target.single(hit.get()));
        }
        return ids.refresh().thenCompose(r -> {
            Optional<Upstream> again = pod ? ids.pod(id.get()) : ids.container(id.get());
            if (again.isPresent()) {
                return done(Target.single(again.get()));
            }
            if (!r.complete()) {
                return CompletableFuture.failedFuture(Status.UNAVAILABLE.withDescription("cri-shim: no reachable runtime "
                        + "knows " + (pod ? "pod sandbox " : "container ") + id.get() + ", and runtime(s) "
                        + r.failed() + " cannot be asked; retry when they are back").asException());
            }
            return done(Target.single(upstreams.primary())); // nobody has it: let the default answer NotFound
        });
    }

    private Upstream podUpstream(RunPodSandboxRequest req) throws StatusException {
        if (!config.annotation().isEmpty()) {
            String wanted = req.getConfig().getAnnotationsMap().get(config.annotation());
            if (wanted != null && !wanted.isEmpty()) {
                return upstreams.named(wanted).orElseThrow(() -> Status.INVALID_ARGUMENT.withDescription(
                        "cri-shim: annotation " + config.annotation() + "=" + wanted + " names no configured runtime "
                        + upstreams.all().stream().map(Upstream::name).toList()).asException());
            }
        }
        String handler = req.getRuntimeHandler();
        String mapped = config.runtimeHandlers().get(handler);
        return mapped != null ? upstreams.named(mapped).orElseThrow() : upstreams.primary();
    }

    private Upstream imageUpstreamFor(ImageSpec spec) {
        String mapped = config.runtimeHandlers().get(spec.getRuntimeHandler());
        return mapped != null && !spec.getRuntimeHandler().isEmpty() ? upstreams.named(mapped).orElseThrow() : imageUpstream;
    }

    private static ImageSpec imageSpec(Message decoded) {
        if (decoded instanceof ImageStatusRequest r) {
            return r.getImage();
        }
        if (decoded instanceof PullImageRequest r) {
            return r.getImage();
        }
        if (decoded instanceof RemoveImageRequest r) {
            return r.getImage();
        }
        return ImageSpec.getDefaultInstance();
    }

    private List<Upstream> primaryFirst(Upstream first) {
        List<Upstream> out = new ArrayList<>();
        out.add(first);
        for (Upstream u : upstreams.all()) {
            if (u != first) {
                out.add(u);
            }
        }
        return out;
    }

    private static CompletableFuture<Target> done(Target t) {
        return CompletableFuture.completedFuture(t);
    }
}
