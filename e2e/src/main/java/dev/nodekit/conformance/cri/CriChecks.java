package dev.nodekit.conformance.cri;

import static dev.nodekit.conformance.Expect.ok;
import static dev.nodekit.conformance.Expect.that;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.nodekit.conformance.CheckFailed;
import dev.nodekit.conformance.CheckSkipped;
import dev.nodekit.conformance.Expect;
import dev.nodekit.conformance.Suite;
import dev.nodekit.spec.cri.v1.FilesystemUsage;
import dev.nodekit.spec.cri.v1.Image;
import dev.nodekit.spec.cri.v1.ImageFilter;
import dev.nodekit.spec.cri.v1.ImageFsInfoRequest;
import dev.nodekit.spec.cri.v1.ImageFsInfoResponse;
import dev.nodekit.spec.cri.v1.ImageSpec;
import dev.nodekit.spec.cri.v1.ImageStatusRequest;
import dev.nodekit.spec.cri.v1.ImageStatusResponse;
import dev.nodekit.spec.cri.v1.ListImagesRequest;
import dev.nodekit.spec.cri.v1.RuntimeCondition;
import dev.nodekit.spec.cri.v1.StatusRequest;
import dev.nodekit.spec.cri.v1.StatusResponse;
import dev.nodekit.spec.cri.v1.VersionRequest;
import dev.nodekit.spec.cri.v1.VersionResponse;

/**
 * The CRI suite: runtime info and conditions, pod sandbox and container lifecycle, ExecSync, the
 * Exec/Attach/PortForward URLs used for real over WebSocket, images and container logs. Checks run
 * against any CRI endpoint (a runtime, or a proxy in front of one) and never pull an image: checks
 * that need the target's image SKIP when it is absent, and PullImage is not exercised at all.
 *
 * <p>Every check makes its own pods with unique names, uids and namespaces and removes them in a
 * {@code finally}; a check whose cleanup fails fails, because a runtime that cannot remove what it
 * made breaks kubelet too.
 */
public final class CriChecks {
    /** The version kubelet sends in VersionRequest. */
    static final String KUBELET_API_VERSION = "0.1.0";
    /** Why {@code cri.image.pull} always skips: the one skip a complete runtime gives. */
    public static final String PULL_SKIP = "PullImage needs a registry (it always contacts one, even for a present "
            + "image) and the suite never pulls";

    private CriChecks() {
    }

    /** Every CRI check, in run order. */
    public static Suite<CriTarget> suite() {
        Suite.Builder<CriTarget> b = Suite.builder("cri");
        runtime(b);
        SandboxChecks.addTo(b);
        ContainerChecks.addTo(b);
        ExecChecks.addTo(b);
        images(b);
        return b.build();
    }

    private static void runtime(Suite.Builder<CriTarget> b) {
        b.check("cri.runtime.version", "CRI v1 Version",
                "version, runtime_name, runtime_version and runtime_api_version are set; the API version is v1", t -> {
                    VersionResponse v = ok("Version", () -> t.runtime().version(
                            VersionRequest.newBuilder().setVersion(KUBELET_API_VERSION).build()));
                    Map<String, String> fields = new LinkedHashMap<>();
                    fields.put("version", v.getVersion());
                    fields.put("runtime_name", v.getRuntimeName());
                    fields.put("runtime_version", v.getRuntimeVersion());
                    fields.put("runtime_api_version", v.getRuntimeApiVersion());
                    List<String> empty = fields.entrySet().stream().filter(e -> e.getValue().isEmpty())
                            .map(Map.Entry::getKey).toList();
                    that(empty.isEmpty(), "Version left %s empty (kubelet >= 1.27 refuses to start on that)", empty);
                    Expect.equal("v1", v.getRuntimeApiVersion(), "runtime_api_version of a runtime.v1 server");
                });
        b.check("cri.runtime.status-conditions", "CRI v1 Status",
                "RuntimeReady and NetworkReady are present and true", t -> {
                    StatusResponse s = ok("Status", () -> t.runtime().status(StatusRequest.getDefaultInstance()));
                    Map<String, RuntimeCondition> byType = new LinkedHashMap<>();
                    for (RuntimeCondition c : s.getStatus().getConditionsList()) {
                        that(byType.put(c.getType(), c) == null, "Status repeats condition %s", c.getType());
                    }
                    for (String type : List.of("RuntimeReady", "NetworkReady")) {
                        RuntimeCondition c = byType.get(type);
                        that(c != null, "Status has no %s condition (conditions: %s); kubelet then reports the node "
                                + "NotReady", type, byType.keySet());
                        that(c.getStatus(), "%s is false: reason '%s', message '%s'", type, c.getReason(), c.getMessage());
                    }
                });
        b.check("cri.runtime.status-verbose", "CRI v1 Status",
                "verbose Status returns runtime info; non-verbose Status returns none", t -> {
                    StatusResponse v = ok("Status(verbose)", () -> t.runtime().status(
                            StatusRequest.newBuilder().setVerbose(true).build()));
                    that(!v.getInfoMap().isEmpty(), "Status(verbose=true) returned no info");
                    StatusResponse q = ok("Status", () -> t.runtime().status(StatusRequest.getDefaultInstance()));
                    that(q.getInfoMap().isEmpty(), "Status(verbose=false) returned info %s; it is for verbose only",
                            q.getInfoMap().keySet());
                });
    }

    private static void images(Suite.Builder<CriTarget> b) {
        b.check("cri.image.status", "CRI v1 ImageStatus",
                "the target image has an id, a size and its name among repo_tags; looking it up by id finds it", t -> {
                    String ref = t.config().image();
                    Image i = presentImage(t, ref);
                    that(!i.getId().isEmpty(), "ImageStatus(%s).image.id is empty", ref);
                    that(i.getSize() > 0, "ImageStatus(%s).image.size is %d", ref, i.getSize());
                    that(ImageRefs.matches(i, ref), "ImageStatus(%s) lists neither the name nor its normalized form %s "
                            + "in repo_tags %s / repo_digests %s", ref, ImageRefs.normalize(ref), i.getRepoTagsList(),
                            i.getRepoDigestsList());
                    ImageStatusResponse byId = imageStatus(t, i.getId());
                    that(byId.hasImage() && byId.getImage().getId().equals(i.getId()),
                            "ImageStatus by id %s did not return that image: %s", i.getId(), Expect.oneLine(byId));
                });
        b.check("cri.image.status-absent", "CRI v1 ImageStatus",
                "an image that is not present answers OK with no image (not an error)", t -> {
                    String ref = "localhost/nodekit-absent-" + Workspace.token("img") + ":0";
                    ImageStatusResponse r = imageStatus(t, ref);
                    that(!r.hasImage(), "ImageStatus(%s) of an absent image returned %s", ref, Expect.oneLine(r.getImage()));
                });
        b.check("cri.image.list", "CRI v1 ListImages",
                "ListImages contains the target image under its name, with or without a filter naming it", t -> {
                    String ref = t.config().image();
                    Image i = presentImage(t, ref);
                    List<Image> all = ok("ListImages", () -> t.images().listImages(ListImagesRequest.getDefaultInstance()))
                            .getImagesList();
                    Image listed = all.stream().filter(x -> x.getId().equals(i.getId())).findFirst().orElseThrow(
                            () -> new CheckFailed("ListImages (" + all.size() + " images) does not contain "
                                    + i.getId() + " (" + ref + ")"));
                    that(ImageRefs.matches(listed, ref), "ListImages lists %s without the name %s: %s", i.getId(), ref,
                            listed.getRepoTagsList());
                    // containerd 1.6 ignores ImageFilter (kubelet never sends one): a filter may narrow the
                    // list, it must not lose the image it names.
                    List<Image> filtered = ok("ListImages(filter " + ref + ")", () -> t.images().listImages(
                            ListImagesRequest.newBuilder().setFilter(ImageFilter.newBuilder()
                                    .setImage(ImageSpec.newBuilder().setImage(ref))).build())).getImagesList();
                    that(filtered.stream().anyMatch(x -> x.getId().equals(i.getId())),
                            "ListImages filtered by %s does not contain it (%d images returned)", ref, filtered.size());
                });
        b.check("cri.image.fs-info", "CRI v1 ImageFsInfo",
                "at least one image filesystem, each with a mountpoint, used bytes and a timestamp", t -> {
                    ImageFsInfoResponse r = ok("ImageFsInfo", () -> t.images().imageFsInfo(
                            ImageFsInfoRequest.getDefaultInstance()));
                    that(r.getImageFilesystemsCount() > 0, "ImageFsInfo returned no image_filesystems (kubelet's image "
                            + "GC needs it)");
                    List<String> bad = new ArrayList<>();
                    for (FilesystemUsage u : r.getImageFilesystemsList()) {
                        if (u.getFsId().getMountpoint().isEmpty() || !u.hasUsedBytes() || u.getTimestamp() <= 0) {
                            bad.add(Expect.oneLine(u));
                        }
                    }
                    that(bad.isEmpty(), "image filesystems without mountpoint, used_bytes or timestamp: %s", bad);
                });
        b.check("cri.image.pull", "CRI v1 PullImage", "PullImage of an image from a registry", t -> {
            throw new CheckSkipped(PULL_SKIP);
        });
    }

    private static ImageStatusResponse imageStatus(CriTarget t, String ref) {
        return ok("ImageStatus " + ref, () -> t.images().imageStatus(ImageStatusRequest.newBuilder()
                .setImage(ImageSpec.newBuilder().setImage(ref)).build()));
    }

    private static Image presentImage(CriTarget t, String ref) {
        ImageStatusResponse r = imageStatus(t, ref);
        if (!r.hasImage()) {
            throw new CheckSkipped(Workspace.missingImage(ref));
        }
        return r.getImage();
    }
}
