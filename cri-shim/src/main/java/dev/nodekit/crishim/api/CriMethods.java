package dev.nodekit.crishim.api;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

import dev.nodekit.spec.cri.v1.AttachRequest;
import dev.nodekit.spec.cri.v1.AttachResponse;
import dev.nodekit.spec.cri.v1.CheckpointContainerRequest;
import dev.nodekit.spec.cri.v1.CheckpointContainerResponse;
import dev.nodekit.spec.cri.v1.ContainerEventResponse;
import dev.nodekit.spec.cri.v1.ContainerStatsRequest;
import dev.nodekit.spec.cri.v1.ContainerStatsResponse;
import dev.nodekit.spec.cri.v1.ContainerStatusRequest;
import dev.nodekit.spec.cri.v1.ContainerStatusResponse;
import dev.nodekit.spec.cri.v1.CreateContainerRequest;
import dev.nodekit.spec.cri.v1.CreateContainerResponse;
import dev.nodekit.spec.cri.v1.ExecRequest;
import dev.nodekit.spec.cri.v1.ExecResponse;
import dev.nodekit.spec.cri.v1.ExecSyncRequest;
import dev.nodekit.spec.cri.v1.ExecSyncResponse;
import dev.nodekit.spec.cri.v1.GetEventsRequest;
import dev.nodekit.spec.cri.v1.ImageFsInfoRequest;
import dev.nodekit.spec.cri.v1.ImageFsInfoResponse;
import dev.nodekit.spec.cri.v1.ImageServiceGrpc;
import dev.nodekit.spec.cri.v1.ImageStatusRequest;
import dev.nodekit.spec.cri.v1.ImageStatusResponse;
import dev.nodekit.spec.cri.v1.ListContainerStatsRequest;
import dev.nodekit.spec.cri.v1.ListContainerStatsResponse;
import dev.nodekit.spec.cri.v1.ListContainersRequest;
import dev.nodekit.spec.cri.v1.ListContainersResponse;
import dev.nodekit.spec.cri.v1.ListImagesRequest;
import dev.nodekit.spec.cri.v1.ListImagesResponse;
import dev.nodekit.spec.cri.v1.ListMetricDescriptorsRequest;
import dev.nodekit.spec.cri.v1.ListMetricDescriptorsResponse;
import dev.nodekit.spec.cri.v1.ListPodSandboxMetricsRequest;
import dev.nodekit.spec.cri.v1.ListPodSandboxMetricsResponse;
import dev.nodekit.spec.cri.v1.ListPodSandboxRequest;
import dev.nodekit.spec.cri.v1.ListPodSandboxResponse;
import dev.nodekit.spec.cri.v1.ListPodSandboxStatsRequest;
import dev.nodekit.spec.cri.v1.ListPodSandboxStatsResponse;
import dev.nodekit.spec.cri.v1.PodSandboxStatsRequest;
import dev.nodekit.spec.cri.v1.PodSandboxStatsResponse;
import dev.nodekit.spec.cri.v1.PodSandboxStatusRequest;
import dev.nodekit.spec.cri.v1.PodSandboxStatusResponse;
import dev.nodekit.spec.cri.v1.PortForwardRequest;
import dev.nodekit.spec.cri.v1.PortForwardResponse;
import dev.nodekit.spec.cri.v1.PullImageRequest;
import dev.nodekit.spec.cri.v1.PullImageResponse;
import dev.nodekit.spec.cri.v1.RemoveContainerRequest;
import dev.nodekit.spec.cri.v1.RemoveContainerResponse;
import dev.nodekit.spec.cri.v1.RemoveImageRequest;
import dev.nodekit.spec.cri.v1.RemoveImageResponse;
import dev.nodekit.spec.cri.v1.RemovePodSandboxRequest;
import dev.nodekit.spec.cri.v1.RemovePodSandboxResponse;
import dev.nodekit.spec.cri.v1.ReopenContainerLogRequest;
import dev.nodekit.spec.cri.v1.ReopenContainerLogResponse;
import dev.nodekit.spec.cri.v1.RunPodSandboxRequest;
import dev.nodekit.spec.cri.v1.RunPodSandboxResponse;
import dev.nodekit.spec.cri.v1.RuntimeConfigRequest;
import dev.nodekit.spec.cri.v1.RuntimeConfigResponse;
import dev.nodekit.spec.cri.v1.RuntimeServiceGrpc;
import dev.nodekit.spec.cri.v1.StartContainerRequest;
import dev.nodekit.spec.cri.v1.StartContainerResponse;
import dev.nodekit.spec.cri.v1.StatusRequest;
import dev.nodekit.spec.cri.v1.StatusResponse;
import dev.nodekit.spec.cri.v1.StopContainerRequest;
import dev.nodekit.spec.cri.v1.StopContainerResponse;
import dev.nodekit.spec.cri.v1.StopPodSandboxRequest;
import dev.nodekit.spec.cri.v1.StopPodSandboxResponse;
import dev.nodekit.spec.cri.v1.StreamContainerStatsRequest;
import dev.nodekit.spec.cri.v1.StreamContainerStatsResponse;
import dev.nodekit.spec.cri.v1.StreamContainersRequest;
import dev.nodekit.spec.cri.v1.StreamContainersResponse;
import dev.nodekit.spec.cri.v1.StreamImagesRequest;
import dev.nodekit.spec.cri.v1.StreamImagesResponse;
import dev.nodekit.spec.cri.v1.StreamPodSandboxMetricsRequest;
import dev.nodekit.spec.cri.v1.StreamPodSandboxMetricsResponse;
import dev.nodekit.spec.cri.v1.StreamPodSandboxStatsRequest;
import dev.nodekit.spec.cri.v1.StreamPodSandboxStatsResponse;
import dev.nodekit.spec.cri.v1.StreamPodSandboxesRequest;
import dev.nodekit.spec.cri.v1.StreamPodSandboxesResponse;
import dev.nodekit.spec.cri.v1.UpdateContainerResourcesRequest;
import dev.nodekit.spec.cri.v1.UpdateContainerResourcesResponse;
import dev.nodekit.spec.cri.v1.UpdatePodSandboxResourcesRequest;
import dev.nodekit.spec.cri.v1.UpdatePodSandboxResourcesResponse;
import dev.nodekit.spec.cri.v1.UpdateRuntimeConfigRequest;
import dev.nodekit.spec.cri.v1.UpdateRuntimeConfigResponse;
import dev.nodekit.spec.cri.v1.VersionRequest;
import dev.nodekit.spec.cri.v1.VersionResponse;

/**
 * Every RPC of CRI {@code runtime.v1} (cri-api v0.36: 35 RuntimeService and 6 ImageService methods)
 * as a typed {@link CriMethod}, the keys interceptors register their hooks under. Methods a newer
 * kubelet calls that are not listed here are still forwarded by the shim, as raw bytes; they can be
 * observed ({@link Hooks#everyCall}) but not decoded.
 */
public final class CriMethods {
    /** {@code /runtime.v1.RuntimeService/Version}. */
    public static final CriMethod<VersionRequest, VersionResponse> VERSION =
            CriMethod.of(RuntimeServiceGrpc.getVersionMethod());

    /** {@code /runtime.v1.RuntimeService/RunPodSandbox}. */
    public static final CriMethod<RunPodSandboxRequest, RunPodSandboxResponse> RUN_POD_SANDBOX =
            CriMethod.of(RuntimeServiceGrpc.getRunPodSandboxMethod());

    /** {@code /runtime.v1.RuntimeService/StopPodSandbox}. */
    public static final CriMethod<StopPodSandboxRequest, StopPodSandboxResponse> STOP_POD_SANDBOX =
            CriMethod.of(RuntimeServiceGrpc.getStopPodSandboxMethod());

    /** {@code /runtime.v1.RuntimeService/RemovePodSandbox}. */
    public static final CriMethod<RemovePodSandboxRequest, RemovePodSandboxResponse> REMOVE_POD_SANDBOX =
            CriMethod.of(RuntimeServiceGrpc.getRemovePodSandboxMethod());

    /** {@code /runtime.v1.RuntimeService/PodSandboxStatus}. */
    public static final CriMethod<PodSandboxStatusRequest, PodSandboxStatusResponse> POD_SANDBOX_STATUS =
            CriMethod.of(RuntimeServiceGrpc.getPodSandboxStatusMethod());

    /** {@code /runtime.v1.RuntimeService/ListPodSandbox}. */
    public static final CriMethod<ListPodSandboxRequest, ListPodSandboxResponse> LIST_POD_SANDBOX =
            CriMethod.of(RuntimeServiceGrpc.getListPodSandboxMethod());

    /** {@code /runtime.v1.RuntimeService/StreamPodSandboxes} (server-streaming). */
    public static final CriMethod<StreamPodSandboxesRequest, StreamPodSandboxesResponse> STREAM_POD_SANDBOXES =
            CriMethod.of(RuntimeServiceGrpc.getStreamPodSandboxesMethod());

    /** {@code /runtime.v1.RuntimeService/CreateContainer}. */
    public static final CriMethod<CreateContainerRequest, CreateContainerResponse> CREATE_CONTAINER =
            CriMethod.of(RuntimeServiceGrpc.getCreateContainerMethod());

    /** {@code /runtime.v1.RuntimeService/StartContainer}. */
    public static final CriMethod<StartContainerRequest, StartContainerResponse> START_CONTAINER =
            CriMethod.of(RuntimeServiceGrpc.getStartContainerMethod());

    /** {@code /runtime.v1.RuntimeService/StopContainer}. */
    public static final CriMethod<StopContainerRequest, StopContainerResponse> STOP_CONTAINER =
            CriMethod.of(RuntimeServiceGrpc.getStopContainerMethod());

    /** {@code /runtime.v1.RuntimeService/RemoveContainer}. */
    public static final CriMethod<RemoveContainerRequest, RemoveContainerResponse> REMOVE_CONTAINER =
            CriMethod.of(RuntimeServiceGrpc.getRemoveContainerMethod());

    /** {@code /runtime.v1.RuntimeService/ListContainers}. */
    public static final CriMethod<ListContainersRequest, ListContainersResponse> LIST_CONTAINERS =
            CriMethod.of(RuntimeServiceGrpc.getListContainersMethod());

    /** {@code /runtime.v1.RuntimeService/StreamContainers} (server-streaming). */
    public static final CriMethod<StreamContainersRequest, StreamContainersResponse> STREAM_CONTAINERS =
            CriMethod.of(RuntimeServiceGrpc.getStreamContainersMethod());

    /** {@code /runtime.v1.RuntimeService/ContainerStatus}. */
    public static final CriMethod<ContainerStatusRequest, ContainerStatusResponse> CONTAINER_STATUS =
            CriMethod.of(RuntimeServiceGrpc.getContainerStatusMethod());

    /** {@code /runtime.v1.RuntimeService/UpdateContainerResources}. */
    public static final CriMethod<UpdateContainerResourcesRequest, UpdateContainerResourcesResponse> UPDATE_CONTAINER_RESOURCES =
            CriMethod.of(RuntimeServiceGrpc.getUpdateContainerResourcesMethod());

    /** {@code /runtime.v1.RuntimeService/ReopenContainerLog}. */
    public static final CriMethod<ReopenContainerLogRequest, ReopenContainerLogResponse> REOPEN_CONTAINER_LOG =
            CriMethod.of(RuntimeServiceGrpc.getReopenContainerLogMethod());

    /** {@code /runtime.v1.RuntimeService/ExecSync}. */
    public static final CriMethod<ExecSyncRequest, ExecSyncResponse> EXEC_SYNC =
            CriMethod.of(RuntimeServiceGrpc.getExecSyncMethod());

    /** {@code /runtime.v1.RuntimeService/Exec}. */
    public static final CriMethod<ExecRequest, ExecResponse> EXEC =
            CriMethod.of(RuntimeServiceGrpc.getExecMethod());

    /** {@code /runtime.v1.RuntimeService/Attach}. */
    public static final CriMethod<AttachRequest, AttachResponse> ATTACH =
            CriMethod.of(RuntimeServiceGrpc.getAttachMethod());

    /** {@code /runtime.v1.RuntimeService/PortForward}. */
    public static final CriMethod<PortForwardRequest, PortForwardResponse> PORT_FORWARD =
            CriMethod.of(RuntimeServiceGrpc.getPortForwardMethod());

    /** {@code /runtime.v1.RuntimeService/ContainerStats}. */
    public static final CriMethod<ContainerStatsRequest, ContainerStatsResponse> CONTAINER_STATS =
            CriMethod.of(RuntimeServiceGrpc.getContainerStatsMethod());

    /** {@code /runtime.v1.RuntimeService/ListContainerStats}. */
    public static final CriMethod<ListContainerStatsRequest, ListContainerStatsResponse> LIST_CONTAINER_STATS =
            CriMethod.of(RuntimeServiceGrpc.getListContainerStatsMethod());

    /** {@code /runtime.v1.RuntimeService/StreamContainerStats} (server-streaming). */
    public static final CriMethod<StreamContainerStatsRequest, StreamContainerStatsResponse> STREAM_CONTAINER_STATS =
            CriMethod.of(RuntimeServiceGrpc.getStreamContainerStatsMethod());

    /** {@code /runtime.v1.RuntimeService/PodSandboxStats}. */
    public static final CriMethod<PodSandboxStatsRequest, PodSandboxStatsResponse> POD_SANDBOX_STATS =
            CriMethod.of(RuntimeServiceGrpc.getPodSandboxStatsMethod());

    /** {@code /runtime.v1.RuntimeService/ListPodSandboxStats}. */
    public static final CriMethod<ListPodSandboxStatsRequest, ListPodSandboxStatsResponse> LIST_POD_SANDBOX_STATS =
            CriMethod.of(RuntimeServiceGrpc.getListPodSandboxStatsMethod());

    /** {@code /runtime.v1.RuntimeService/StreamPodSandboxStats} (server-streaming). */
    public static final CriMethod<StreamPodSandboxStatsRequest, StreamPodSandboxStatsResponse> STREAM_POD_SANDBOX_STATS =
            CriMethod.of(RuntimeServiceGrpc.getStreamPodSandboxStatsMethod());

    /** {@code /runtime.v1.RuntimeService/UpdateRuntimeConfig}. */
    public static final CriMethod<UpdateRuntimeConfigRequest, UpdateRuntimeConfigResponse> UPDATE_RUNTIME_CONFIG =
            CriMethod.of(RuntimeServiceGrpc.getUpdateRuntimeConfigMethod());

    /** {@code /runtime.v1.RuntimeService/Status}. */
    public static final CriMethod<StatusRequest, StatusResponse> STATUS =
            CriMethod.of(RuntimeServiceGrpc.getStatusMethod());

    /** {@code /runtime.v1.RuntimeService/CheckpointContainer}. */
    public static final CriMethod<CheckpointContainerRequest, CheckpointContainerResponse> CHECKPOINT_CONTAINER =
            CriMethod.of(RuntimeServiceGrpc.getCheckpointContainerMethod());

    /** {@code /runtime.v1.RuntimeService/GetContainerEvents} (server-streaming). */
    public static final CriMethod<GetEventsRequest, ContainerEventResponse> GET_CONTAINER_EVENTS =
            CriMethod.of(RuntimeServiceGrpc.getGetContainerEventsMethod());

    /** {@code /runtime.v1.RuntimeService/ListMetricDescriptors}. */
    public static final CriMethod<ListMetricDescriptorsRequest, ListMetricDescriptorsResponse> LIST_METRIC_DESCRIPTORS =
            CriMethod.of(RuntimeServiceGrpc.getListMetricDescriptorsMethod());

    /** {@code /runtime.v1.RuntimeService/ListPodSandboxMetrics}. */
    public static final CriMethod<ListPodSandboxMetricsRequest, ListPodSandboxMetricsResponse> LIST_POD_SANDBOX_METRICS =
            CriMethod.of(RuntimeServiceGrpc.getListPodSandboxMetricsMethod());

    /** {@code /runtime.v1.RuntimeService/StreamPodSandboxMetrics} (server-streaming). */
    public static final CriMethod<StreamPodSandboxMetricsRequest, StreamPodSandboxMetricsResponse> STREAM_POD_SANDBOX_METRICS =
            CriMethod.of(RuntimeServiceGrpc.getStreamPodSandboxMetricsMethod());

    /** {@code /runtime.v1.RuntimeService/RuntimeConfig}. */
    public static final CriMethod<RuntimeConfigRequest, RuntimeConfigResponse> RUNTIME_CONFIG =
            CriMethod.of(RuntimeServiceGrpc.getRuntimeConfigMethod());

    /** {@code /runtime.v1.RuntimeService/UpdatePodSandboxResources}. */
    public static final CriMethod<UpdatePodSandboxResourcesRequest, UpdatePodSandboxResourcesResponse> UPDATE_POD_SANDBOX_RESOURCES =
            CriMethod.of(RuntimeServiceGrpc.getUpdatePodSandboxResourcesMethod());

    /** {@code /runtime.v1.ImageService/ListImages}. */
    public static final CriMethod<ListImagesRequest, ListImagesResponse> LIST_IMAGES =
            CriMethod.of(ImageServiceGrpc.getListImagesMethod());

    /** {@code /runtime.v1.ImageService/StreamImages} (server-streaming). */
    public static final CriMethod<StreamImagesRequest, StreamImagesResponse> STREAM_IMAGES =
            CriMethod.of(ImageServiceGrpc.getStreamImagesMethod());

    /** {@code /runtime.v1.ImageService/ImageStatus}. */
    public static final CriMethod<ImageStatusRequest, ImageStatusResponse> IMAGE_STATUS =
            CriMethod.of(ImageServiceGrpc.getImageStatusMethod());

    /** {@code /runtime.v1.ImageService/PullImage}. */
    public static final CriMethod<PullImageRequest, PullImageResponse> PULL_IMAGE =
            CriMethod.of(ImageServiceGrpc.getPullImageMethod());

    /** {@code /runtime.v1.ImageService/RemoveImage}. */
    public static final CriMethod<RemoveImageRequest, RemoveImageResponse> REMOVE_IMAGE =
            CriMethod.of(ImageServiceGrpc.getRemoveImageMethod());

    /** {@code /runtime.v1.ImageService/ImageFsInfo}. */
    public static final CriMethod<ImageFsInfoRequest, ImageFsInfoResponse> IMAGE_FS_INFO =
            CriMethod.of(ImageServiceGrpc.getImageFsInfoMethod());

    private static final List<CriMethod<?, ?>> ALL = List.of(
            VERSION,
            RUN_POD_SANDBOX,
            STOP_POD_SANDBOX,
            REMOVE_POD_SANDBOX,
            POD_SANDBOX_STATUS,
            LIST_POD_SANDBOX,
            STREAM_POD_SANDBOXES,
            CREATE_CONTAINER,
            START_CONTAINER,
            STOP_CONTAINER,
            REMOVE_CONTAINER,
            LIST_CONTAINERS,
            STREAM_CONTAINERS,
            CONTAINER_STATUS,
            UPDATE_CONTAINER_RESOURCES,
            REOPEN_CONTAINER_LOG,
            EXEC_SYNC,
            EXEC,
            ATTACH,
            PORT_FORWARD,
            CONTAINER_STATS,
            LIST_CONTAINER_STATS,
            STREAM_CONTAINER_STATS,
            POD_SANDBOX_STATS,
            LIST_POD_SANDBOX_STATS,
            STREAM_POD_SANDBOX_STATS,
            UPDATE_RUNTIME_CONFIG,
            STATUS,
            CHECKPOINT_CONTAINER,
            GET_CONTAINER_EVENTS,
            LIST_METRIC_DESCRIPTORS,
            LIST_POD_SANDBOX_METRICS,
            STREAM_POD_SANDBOX_METRICS,
            RUNTIME_CONFIG,
            UPDATE_POD_SANDBOX_RESOURCES,
            LIST_IMAGES,
            STREAM_IMAGES,
            IMAGE_STATUS,
            PULL_IMAGE,
            REMOVE_IMAGE,
            IMAGE_FS_INFO);
    private static final Map<String, CriMethod<?, ?>> BY_FULL_NAME = ALL.stream()
            .collect(Collectors.toUnmodifiableMap(CriMethod::fullName, Function.identity()));

    private CriMethods() {
    }

    /** All methods, RuntimeService first, in the order of {@code api.proto}. */
    public static List<CriMethod<?, ?>> all() {
        return ALL;
    }

    /** The method with this full name ({@code runtime.v1.RuntimeService/Version}, no leading slash), if CRI v1 has it. */
    public static Optional<CriMethod<?, ?>> byFullName(String fullName) {
        return Optional.ofNullable(BY_FULL_NAME.get(fullName));
    }
}
