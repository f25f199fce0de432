package dev.nodekit.conformance.cri;

import dev.nodekit.spec.cri.v1.Image;

/** Docker-style image reference normalization, as runtimes list names (one line). */
final class ImageRefs {
    private ImageRefs() {
    }

    /**
     * {@code busybox} -> {@code docker.io/library/busybox:latest}, {@code me/app:1} ->
     * {@code docker.io/me/app:1}; a name whose first part has a dot, a colon or is {@code localhost}
     * keeps it as the registry. Digests ({@code @sha256:...}) are kept and get no tag.
     */
    static String normalize(String ref) {
        String name = ref;
        String digest = "";
        int at = ref.indexOf('@');
        if (at >= 0) {
            name = ref.substring(0, at);
            digest = ref.substring(at);
        }
        int slash = name.indexOf('/');
        if (slash < 0) {
            name = "docker.io/library/" + name;
        } else {
            String first = name.substring(0, slash);
            if (!(first.contains(".") || first.contains(":") || first.equals("localhost"))) {
                name = "docker.io/" + name;
            }
        }
        boolean tagged = name.lastIndexOf(':') > name.lastIndexOf('/');
        if (!tagged && digest.isEmpty()) {
            name = name + ":latest";
        }
        return name + digest;
    }

    /** True when {@code image} lists {@code ref} (as given or normalized) among its tags or digests. */
    static boolean matches(Image image, String ref) {
        String n = normalize(ref);
        return image.getRepoTagsList().contains(ref) || image.getRepoTagsList().contains(n)
                || image.getRepoDigestsList().contains(ref) || image.getRepoDigestsList().contains(n)
                || image.getId().equals(ref);
    }
}
