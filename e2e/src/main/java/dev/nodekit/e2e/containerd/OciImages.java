package dev.nodekit.e2e.containerd;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Builds, without any registry, an OCI image layout archive holding two images that share one
 * uncompressed busybox-static layer: the pause image (sleeps forever) and a busybox image
 * ({@code /bin/sh}). The layer tar is reproducible (sorted, mtime 0, owner 0), so its digest is
 * its diff_id and is the same on every build.
 */
final class OciImages {
    static final String LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar";
    static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
    static final String CONFIG_TYPE = "application/vnd.oci.image.config.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private OciImages() {
    }

    /** One blob: its digest ({@code sha256:...}) and size. */
    record Blob(String digest, long size) {
    }

    /**
     * Writes {@code work/images.oci.tar} with {@code pauseRef} and {@code busyboxRef} and returns its path.
     * Both names must carry a registry part ({@code localhost/busybox:1}): containerd lists a name
     * without one under {@code docker.io/} and CRI cannot resolve it.
     */
    static Path build(Path work, Path busybox, String pauseRef, String busyboxRef) throws IOException {
        Path rootfs = work.resolve("rootfs");
        Path layout = work.resolve("layout");
        Path blobs = layout.resolve("blobs/sha256");
        Files.createDirectories(blobs);
        for (String d : List.of("bin", "etc", "proc", "sys", "dev", "tmp", "root", "var/run")) {
            Files.createDirectories(rootfs.resolve(d));
        }
        Host.run("chmod", "1777", rootfs.resolve("tmp").toString()).check(); // sticky bit: not expressible in NIO
        Files.copy(busybox, rootfs.resolve("bin/busybox"), StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(rootfs.resolve("bin/busybox"), PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String applet : Host.run(busybox.toString(), "--list").check().stdout().split("\n")) {
            String a = applet.strip();
            if (!a.isEmpty() && !a.equals("busybox") && !a.contains("/")) {
                Files.deleteIfExists(rootfs.resolve("bin").resolve(a));
                Files.createSymbolicLink(rootfs.resolve("bin").resolve(a), Path.of("busybox"));
            }
        }
        // CRI bind-mounts /etc/hosts, /etc/resolv.conf and /etc/hostname over these.
        Files.writeString(rootfs.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
        Files.writeString(rootfs.resolve("etc/group"), "root:x:0:\nnogroup:x:65534:\n");
        for (String f : List.of("hosts", "resolv.conf", "hostname")) {
            Files.writeString(rootfs.resolve("etc").resolve(f), "");
        }

        Path layerTar = work.resolve("layer.tar");
        Host.run("tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-C",
                rootfs.toString(), "-cf", layerTar.toString(), ".").check();
        Blob layer = moveToBlob(layerTar, blobs);

        Blob pause = image(blobs, layer, "Entrypoint", List.of("/bin/sleep", "2147483647"));
        Blob box = image(blobs, layer, "Cmd", List.of("/bin/sh"));

        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        index.put("mediaType", "application/vnd.oci.image.index.v1+json");
        ArrayNode manifests = index.putArray("manifests");
        manifests.add(descriptor(pause, pauseRef));
        manifests.add(descriptor(box, busyboxRef));
        Files.writeString(layout.resolve("index.json"), JSON.writeValueAsString(index));
        Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");

        Path archive = work.resolve("images.oci.tar");
        Host.run("tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-C",
                layout.toString(), "-cf", archive.toString(), "oci-layout", "index.json", "blobs").check();
        return archive;
    }

    private static Blob image(Path blobs, Blob layer, String entryKey, List<String> entry) throws IOException {
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("architecture", "amd64");
        cfg.put("os", "linux");
        cfg.put("created", "1970-01-01T00:00:00Z");
        ObjectNode c = cfg.putObject("config");
        c.putArray("Env").add("PATH=/bin:/usr/bin:/sbin:/usr/sbin");
        c.put("WorkingDir", "/");
        ArrayNode e = c.putArray(entryKey);
        entry.forEach(e::add);
        ObjectNode rootfs = cfg.putObject("rootfs");
        rootfs.put("type", "layers");
        rootfs.putArray("diff_ids").add(layer.digest());
        cfg.putArray("history").addObject().put("created", "1970-01-01T00:00:00Z")
                .put("created_by", "nodekit ContainerdFixture (busybox-static)");
        Blob config = writeBlob(blobs, JSON.writeValueAsBytes(cfg));

        ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", MANIFEST_TYPE);
        m.putObject("config").put("mediaType", CONFIG_TYPE).put("digest", config.digest()).put("size", config.size());
        m.putArray("layers").addObject().put("mediaType", LAYER_TYPE).put("digest", layer.digest())
                .put("size", layer.size());
        return writeBlob(blobs, JSON.writeValueAsBytes(m));
    }

    private static ObjectNode descriptor(Blob manifest, String ref) {
        ObjectNode d = JSON.createObjectNode();
        d.put("mediaType", MANIFEST_TYPE);
        d.put("digest", manifest.digest());
        d.put("size", manifest.size());
        d.putObject("platform").put("architecture", "amd64").put("os", "linux");
        d.putObject("annotations").put("io.containerd.image.name", ref)
                .put("org.opencontainers.image.ref.name", ref.substring(ref.lastIndexOf(':') + 1));
        return d;
    }

    private static Blob writeBlob(Path blobs, byte[] content) throws IOException {
        String hex = HexFormat.of().formatHex(sha256().digest(content));
        Files.write(blobs.resolve(hex), content);
        return new Blob("sha256:" + hex, content.length);
    }

    private static Blob moveToBlob(Path file, Path blobs) throws IOException {
        MessageDigest md = sha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0;) {
                md.update(buf, 0, n);
            }
        }
        String hex = HexFormat.of().formatHex(md.digest());
        long size = Files.size(file);
        Files.move(file, blobs.resolve(hex), StandardCopyOption.REPLACE_EXISTING);
        return new Blob("sha256:" + hex, size);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
