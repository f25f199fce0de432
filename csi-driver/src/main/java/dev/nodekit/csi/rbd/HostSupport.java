package dev.nodekit.csi.rbd;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * What this host can attach images with, probed once at startup: krbd needs the kernel's rbd
 * driver ({@code /sys/bus/rbd}) and the {@code rbd} tool; the fuse path needs {@code rbd-fuse},
 * {@code /dev/fuse}, {@code fusermount} and {@code losetup}.
 *
 * @param krbd       krbd usable
 * @param fuse       rbd-fuse + loop usable
 * @param rbdFuse    the rbd-fuse binary, if found
 * @param whyNotKrbd the reason krbd is not usable (empty when it is)
 * @param whyNotFuse the reason the fuse path is not usable (empty when it is)
 */
record HostSupport(boolean krbd, boolean fuse, Optional<Path> rbdFuse, String whyNotKrbd, String whyNotFuse) {

    /** Probes with {@code which} resolving executables and {@code root} prefixing sysfs/dev paths. */
    static HostSupport probe(Function<String, Optional<Path>> which, Path root) {
        List<String> noKrbd = new ArrayList<>();
        if (!Files.isDirectory(root.resolve("sys/bus/rbd"))) {
            noKrbd.add("the kernel has no rbd driver (/sys/bus/rbd missing; modprobe rbd on the host)");
        }
        if (which.apply("rbd").isEmpty()) {
            noKrbd.add("the rbd tool is not installed (ceph-common)");
        }
        List<String> noFuse = new ArrayList<>();
        Optional<Path> rbdFuse = which.apply("rbd-fuse");
        if (rbdFuse.isEmpty()) {
            noFuse.add("rbd-fuse is not installed");
        }
        if (!Files.exists(root.resolve("dev/fuse"))) {
            noFuse.add("/dev/fuse is missing");
        }
        if (which.apply("fusermount").isEmpty()) {
            noFuse.add("fusermount is not installed (fuse)");
        }
        if (which.apply("losetup").isEmpty()) {
            noFuse.add("losetup is not installed (util-linux)");
        }
        return new HostSupport(noKrbd.isEmpty(), noFuse.isEmpty(), rbdFuse, String.join("; ", noKrbd),
                String.join("; ", noFuse));
    }

    /** The mounter to use when a StorageClass names none: krbd where the kernel has it (ceph-csi's default). */
    Optional<Mounter> preferred() {
        if (krbd) {
            return Optional.of(Mounter.KRBD);
        }
        return fuse ? Optional.of(Mounter.FUSE) : Optional.empty();
    }

    boolean supports(Mounter m) {
        return m == Mounter.KRBD ? krbd : fuse;
    }

    String whyNot(Mounter m) {
        return m == Mounter.KRBD ? whyNotKrbd : whyNotFuse;
    }
}
