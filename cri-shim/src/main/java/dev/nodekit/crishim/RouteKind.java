package dev.nodekit.crishim;

/** How a method is routed when there are several upstreams (see the package documentation). */
enum RouteKind {
    /** The default upstream: Version, Status, RuntimeConfig, methods the shim does not know, everything with one upstream. */
    PRIMARY,
    /** RunPodSandbox: by the routing annotation, then the runtime handler, then the default. */
    POD_CREATE,
    /** By the request's {@code pod_sandbox_id} through the id map. */
    BY_POD,
    /** By the request's {@code container_id} through the id map. */
    BY_CONTAINER,
    /** A List call to every upstream; the responses (one repeated field each) concatenated. */
    FAN_CONCAT,
    /** ListMetricDescriptors to every upstream; descriptors merged by name. */
    FAN_DESCRIPTORS,
    /** A finite Stream* call to every upstream; the streams interleaved; ends when all have. */
    FAN_STREAM,
    /** GetContainerEvents to every upstream; interleaved; ends when any one ends. */
    FAN_EVENTS,
    /** UpdateRuntimeConfig to every upstream; the default's answer; any failure fails. */
    BROADCAST,
    /** ListImages, ImageFsInfo, StreamImages: the image upstream. */
    IMAGE_PRIMARY,
    /** ImageStatus: by the ImageSpec's runtime handler, else the image upstream. */
    IMAGE_SPEC,
    /** PullImage, RemoveImage: like {@link #IMAGE_SPEC}, or to every upstream when replication is on. */
    IMAGE_WRITE;

    /** Whether routing needs the decoded request (it reads nested fields). */
    boolean needsDecodedRequest() {
        return this == POD_CREATE || this == IMAGE_SPEC || this == IMAGE_WRITE;
    }
}
