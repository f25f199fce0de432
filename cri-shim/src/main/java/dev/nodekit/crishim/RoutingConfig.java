package dev.nodekit.crishim;

import java.util.Map;
import java.util.Objects;

/**
 * How calls are spread over several upstreams ({@code routing:} in the config file). Ignored, and
 * costs nothing, when there is one upstream. See the package documentation for the design.
 *
 * @param defaultUpstream  where pods go that no rule sends elsewhere, and where Version, Status,
 *                         RuntimeConfig and methods the shim does not know go; default: the first upstream
 * @param runtimeHandlers  runtime handler (RuntimeClass handler) -> upstream name
 * @param annotation       a pod annotation whose value names the upstream (wins over the handler);
 *                         empty = not used
 * @param images           which upstream the ImageService talks to
 * @param listFailure      what a fanned-out List call does when one upstream fails
 */
public record RoutingConfig(String defaultUpstream, Map<String, String> runtimeHandlers, String annotation,
        ImageRouting images, ListFailure listFailure) {
    public RoutingConfig {
        defaultUpstream = defaultUpstream == null ? "" : defaultUpstream;
        runtimeHandlers = runtimeHandlers == null ? Map.of() : Map.copyOf(runtimeHandlers);
        annotation = annotation == null ? "" : annotation;
        images = images == null ? new ImageRouting(null, null) : images;
        listFailure = listFailure == null ? ListFailure.FAIL : listFailure;
    }

    /** No routing rules: everything to the first upstream. */
    public static RoutingConfig none() {
        return new RoutingConfig(null, null, null, null, null);
    }

    /**
     * ImageService routing. An ImageSpec whose {@code runtime_handler} is mapped in
     * {@link RoutingConfig#runtimeHandlers()} goes to that upstream; anything else to {@code upstream}.
     *
     * @param upstream  the image upstream; default: the default upstream
     * @param replicate also send PullImage and RemoveImage to every other upstream, so a pod routed
     *                  to any runtime finds its image (kubelet pulls through one image endpoint);
     *                  the image upstream's answer is returned, and any failure fails the call
     */
    public record ImageRouting(String upstream, Boolean replicate) {
        public ImageRouting {
            upstream = upstream == null ? "" : upstream;
            replicate = replicate != null && replicate;
        }
    }

    /** What a List call fanned out to several upstreams does when one of them fails. */
    public enum ListFailure {
        /**
         * Fail the call with that upstream's status. kubelet's relist then fails and it keeps its
         * last view: no pod is believed gone because its runtime is briefly unreachable.
         */
        FAIL,
        /**
         * Leave that upstream's items out and answer with the rest. kubelet then believes the
         * missing pods are gone and may try to recreate them: only for runtimes whose pods are
         * expendable.
         */
        SKIP
    }

    /** Checks that every name refers to one of {@code upstreams}. */
    void validate(java.util.Set<String> upstreams) {
        Objects.requireNonNull(upstreams, "upstreams");
        check(upstreams, defaultUpstream, "routing.defaultUpstream");
        runtimeHandlers.forEach((handler, up) -> check(upstreams, up, "routing.runtimeHandlers." + handler));
        check(upstreams, images.upstream(), "routing.images.upstream");
    }

    private static void check(java.util.Set<String> upstreams, String name, String field) {
        if (!name.isEmpty() && !upstreams.contains(name)) {
            throw new IllegalArgumentException(field + ": no upstream is named '" + name + "' (upstreams: "
                    + new java.util.TreeSet<>(upstreams) + ")");
        }
    }
}
