package dev.nodekit.common;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import dev.nodekit.common.exec.Executables;

/**
 * Something of the real world a test or a conformance check needs: root, network namespaces, a
 * Ceph installation, containerd... The same names drive the JUnit conditions ({@code @Requires} in
 * the common test-jar) and the conformance harness's skips, so a skip reads the same everywhere.
 *
 * <p>{@link #missing()} probes the host without running any process (file and permission checks
 * only), so it is cheap enough to call before every test. A probe answers "could this run here";
 * it does not start anything.
 *
 * <p><b>Strict mode</b> ({@code NODEKIT_STRICT=1} or {@code -Dnodekit.strict=true}): a missing
 * requirement is a failure instead of a skip, so a green CI run always means the real component
 * ran. See {@link #strict()}.
 */
public enum Requirement {
    /** Effective uid 0 (mounts, loop devices, namespaces, iptables). */
    ROOT("root") {
        @Override
        Optional<String> probe() {
            return isRoot() ? Optional.empty() : Optional.of("not running as root (euid != 0)");
        }
    },
    /** Loop devices can be attached: root, /dev/loop-control and losetup. */
    LOOP_DEVICES("loop") {
        @Override
        Optional<String> probe() {
            return firstMissing(ROOT.probe(), file("/dev/loop-control"), binary("losetup"),
                    binary("mkfs.ext4"), binary("mount"), binary("umount"));
        }
    },
    /** mkfs.xfs / xfs_growfs (online grow, reflink tests). */
    XFS("xfs") {
        @Override
        Optional<String> probe() {
            return firstMissing(binary("mkfs.xfs"), binary("xfs_growfs"));
        }
    },
    /** Network namespaces, veth and bridges through iproute2 and nsenter. */
    NETNS("netns") {
        @Override
        Optional<String> probe() {
            return firstMissing(ROOT.probe(), binary("ip"), binary("nsenter"), file("/proc/self/ns/net"));
        }
    },
    /** iptables (ipMasq rules). */
    IPTABLES("iptables") {
        @Override
        Optional<String> probe() {
            return firstMissing(ROOT.probe(), binary("iptables"));
        }
    },
    /** The Go reference CNI plugins from Debian's containernetworking-plugins (a peer for the CNI suite). */
    CNI_REFERENCE_PLUGINS("cni-reference") {
        @Override
        Optional<String> probe() {
            return firstMissing(file("/usr/lib/cni/bridge"), file("/usr/lib/cni/host-local"),
                    file("/usr/lib/cni/loopback"));
        }
    },
    /** A local Ceph installation that can boot a throw-away cluster (mon, mgr, osd, rbd, librados). */
    CEPH("ceph") {
        @Override
        Optional<String> probe() {
            return firstMissing(ROOT.probe(), binary("ceph-mon"), binary("ceph-mgr"), binary("ceph-osd"),
                    binary("ceph-authtool"), binary("monmaptool"), binary("ceph"), binary("rbd"),
                    binary("rados"), library("librados.so.2"), library("librbd.so.1"));
        }
    },
    /** rbd-fuse and /dev/fuse: the node path for RBD images on hosts without krbd. */
    RBD_FUSE("rbd-fuse") {
        @Override
        Optional<String> probe() {
            return firstMissing(ROOT.probe(), binary("rbd-fuse"), binary("fusermount"), file("/dev/fuse"));
        }
    },
    /** containerd + runc + ctr, to start a private containerd. */
    CONTAINERD("containerd") {
        @Override
        Optional<String> probe() {
            return firstMissing(ROOT.probe(), binary("containerd"), binary("containerd-shim-runc-v2"),
                    binary("runc"), binary("ctr"), file("/bin/busybox"));
        }
    },
    /** gcc with a static C library, to build the CNI thin client. */
    C_COMPILER("gcc") {
        @Override
        Optional<String> probe() {
            return firstMissing(binary("gcc"), library("libc.a"));
        }
    },
    /** A reachable Docker engine (Testcontainers). Not available on the current CI machines. */
    DOCKER("docker") {
        @Override
        Optional<String> probe() {
            return firstMissing(file("/var/run/docker.sock"));
        }
    };

    private static final List<Path> LIBRARY_DIRS = List.of(Path.of("/usr/lib/x86_64-linux-gnu"),
            Path.of("/usr/lib64"), Path.of("/usr/lib"), Path.of("/lib/x86_64-linux-gnu"));
    private static final Map<Requirement, Optional<String>> CACHE = new EnumMap<>(Requirement.class);

    private final String id;

    Requirement(String id) {
        this.id = id;
    }

    /** Stable lower-case name, used as JUnit tag and in harness output ({@code root}, {@code ceph}...). */
    public String id() {
        return id;
    }

    /** Empty when this requirement is met here, otherwise the reason it is not. Cached per JVM. */
    public Optional<String> missing() {
        synchronized (CACHE) {
            return CACHE.computeIfAbsent(this, Requirement::probe);
        }
    }

    /** The reasons of all requirements in {@code reqs} that are missing here, in order. */
    public static List<String> missingOf(Iterable<Requirement> reqs) {
        List<String> out = new ArrayList<>();
        for (Requirement r : reqs) {
            r.missing().ifPresent(m -> out.add(r.id + ": " + m));
        }
        return out;
    }

    /** True when a missing requirement must fail instead of skip ({@code NODEKIT_STRICT=1}). */
    public static boolean strict() {
        String env = System.getenv("NODEKIT_STRICT");
        String prop = System.getProperty("nodekit.strict");
        return isTrue(env) || isTrue(prop);
    }

    /** Looks a requirement up by its {@link #id()} or enum name, case-insensitively. */
    public static Requirement byName(String name) {
        for (Requirement r : values()) {
            if (r.id.equalsIgnoreCase(name) || r.name().equalsIgnoreCase(name)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown requirement '" + name + "'");
    }

    abstract Optional<String> probe();

    private static boolean isTrue(String v) {
        return v != null && (v.equals("1") || v.toLowerCase(Locale.ROOT).equals("true"));
    }

    static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    String[] f = line.split("\\s+");
                    return f.length > 2 && f[2].equals("0");
                }
            }
        } catch (Exception e) {
            return false;
        }
        return false;
    }

    @SafeVarargs
    private static Optional<String> firstMissing(Optional<String>... checks) {
        for (Optional<String> c : checks) {
            if (c.isPresent()) {
                return c;
            }
        }
        return Optional.empty();
    }

    private static Optional<String> file(String path) {
        return Files.exists(Path.of(path)) ? Optional.empty() : Optional.of(path + " does not exist");
    }

    private static Optional<String> binary(String name) {
        return Executables.which(name).isPresent() ? Optional.empty()
                : Optional.of("'" + name + "' not found on PATH (" + Executables.searchPath() + ")");
    }

    private static Optional<String> library(String name) {
        for (Path dir : LIBRARY_DIRS) {
            if (Files.exists(dir.resolve(name))) {
                return Optional.empty();
            }
        }
        return Optional.of("shared library " + name + " not found in " + LIBRARY_DIRS);
    }
}
