package dev.nodekit.e2e.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.mount.MountInfo;
import dev.nodekit.common.mount.Mounts;

/**
 * What a node run has on the host right now, found by its {@link RunMarks} (and names it recorded
 * while it ran: host veths, masquerade chains), never by comparing the whole host before and after:
 * other work on the machine changes the host meanwhile. An empty footprint after teardown is the
 * proof that the run left nothing; a footprint limited to some kinds proves a step cleaned up
 * after itself while the daemons still run (no IPAM file, rule or veth after the pods are gone).
 *
 * @param findings what was found, in scan order
 */
public record Footprint(List<Finding> findings) {
    private static final Pattern ADDRESS_FILE = Pattern.compile("[0-9a-fA-F:.]+");
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final Path CNI_RESULTS = Path.of("/var/lib/cni/results");
    static final Path NETNS_DIR = Path.of("/var/run/netns");
    static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

    public Footprint {
        findings = List.copyOf(findings);
    }

    /** The kinds of thing a run leaves on a host. */
    public enum Kind {
        /** A mount point under the run dir (volume, netns bind mount, container rootfs). */
        MOUNT,
        /** A loop device whose backing file lies under the run dir. */
        LOOP_DEVICE,
        /** The run's pod bridge (the bridge plugin's DEL leaves it, as Go's does; teardown removes it). */
        BRIDGE,
        /** Another network link: a host veth on the bridge or recorded on it, any link named with the run id. */
        LINK,
        /** An address file in host-local's network dir: an IP still allocated. */
        IPAM_FILE,
        /** An iptables line naming the run's network, subnet or a masquerade chain it made. */
        IPTABLES,
        /** A process whose command line names the run dir (containerd, shims, plugins, daemons). */
        PROCESS,
        /** A named network namespace of the run. */
        NETNS,
        /** The run's pod cgroup parent in some hierarchy. */
        CGROUP,
        /** A libcni cache entry in /var/lib/cni/results that names the run dir. */
        CNI_CACHE,
        /** The run dir itself. */
        RUN_DIR;

        /** What a step that only releases pod resources must leave clean while the daemons still run. */
        public static Set<Kind> podNetworking() {
            return EnumSet.of(LINK, IPAM_FILE, IPTABLES, NETNS);
        }
    }

    /**
     * One thing found.
     *
     * @param kind what sort of thing
     * @param what its name and details, for a message
     */
    public record Finding(Kind kind, String what) {
        public Finding {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(what, "what");
        }

        @Override
        public String toString() {
            return kind.name().toLowerCase(java.util.Locale.ROOT) + ": " + what;
        }
    }

    /** True when nothing was found. */
    public boolean isClean() {
        return findings.isEmpty();
    }

    /** The findings of the given kinds only. */
    public Footprint only(Set<Kind> kinds) {
        return new Footprint(findings.stream().filter(f -> kinds.contains(f.kind())).toList());
    }

    /** The findings of every kind but the given ones. */
    public Footprint except(Set<Kind> kinds) {
        return new Footprint(findings.stream().filter(f -> !kinds.contains(f.kind())).toList());
    }

    /** How many findings of {@code kind}. */
    public long count(Kind kind) {
        return findings.stream().filter(f -> f.kind() == kind).count();
    }

    @Override
    public String toString() {
        return findings.isEmpty() ? "nothing" : findings.stream().map(Finding::toString).collect(Collectors.joining("; "));
    }

    /**
     * Scans the host for everything of the run.
     *
     * @param marks      the run's names
     * @param recorded   names the run recorded while it ran (host veths, iptables chains); may be empty
     * @param subnet     the pod subnet ({@code 10.201.7.0/24}), whose prefix is looked for in iptables; may be null
     * @param runner     runs {@code ip}, {@code losetup}, {@code iptables-save}
     */
    public static Footprint scan(RunMarks marks, Set<String> recorded, String subnet, CommandRunner runner)
            throws IOException {
        List<Finding> out = new ArrayList<>();
        Path dir = real(marks.runDir());
        String dirText = marks.runDir().toString();
        for (MountInfo m : Mounts.system().list()) {
            if (m.mountPoint().startsWith(dir) || m.mountPoint().startsWith(marks.runDir())) {
                out.add(new Finding(Kind.MOUNT, m.mountPoint() + " (" + m.fsType() + " from " + m.source() + ")"));
            }
        }
        for (String line : run(runner, "losetup", "-a", "-n", "-O", "NAME,BACK-FILE").stdoutLines()) {
            String[] f = line.trim().split("\\s+", 2);
            if (f.length == 2 && (f[1].startsWith(dir + "/") || f[1].startsWith(dirText + "/"))) {
                out.add(new Finding(Kind.LOOP_DEVICE, f[0] + " backed by " + f[1]));
            }
        }
        for (String line : run(runner, "ip", "-o", "link", "show").stdoutLines()) {
            // "7: nk1234abcdb: <BROADCAST,...> mtu 1500 ... master nk1234abcdb state UP ..."
            String[] f = line.split(":\\s+", 3);
            if (f.length < 2) {
                continue;
            }
            String name = f[1].contains("@") ? f[1].substring(0, f[1].indexOf('@')) : f[1];
            if (name.equals(marks.bridge())) {
                out.add(new Finding(Kind.BRIDGE, name));
            } else if (name.contains(marks.runId()) || recorded.contains(name)
                    || line.contains(" master " + marks.bridge() + " ")) {
                out.add(new Finding(Kind.LINK, name));
            }
        }
        Path ipam = marks.ipamNetworkDir();
        if (Files.isDirectory(ipam)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(ipam)) {
                for (Path f : ds) {
                    String n = f.getFileName().toString();
                    if (ADDRESS_FILE.matcher(n).matches() && (n.contains(".") || n.contains(":"))) {
                        out.add(new Finding(Kind.IPAM_FILE, f + " (" + firstLine(f) + ")"));
                    }
                }
            }
        }
        String subnetPrefix = subnetPrefix(subnet);
        CommandResult save = run(runner, "iptables-save");
        for (String line : save.stdoutLines()) {
            if (line.startsWith("#")) {
                continue;
            }
            boolean ours = line.contains(marks.network()) || (subnetPrefix != null && line.contains(subnetPrefix))
                    || recorded.stream().anyMatch(n -> n.startsWith("CNI-") && containsWord(line, n));
            if (ours) {
                out.add(new Finding(Kind.IPTABLES, line));
            }
        }
        for (long pid : pidsNaming(dirText)) {
            out.add(new Finding(Kind.PROCESS, pid + " " + cmdline(pid)));
        }
        for (String ns : marks.netnsNames()) {
            if (Files.exists(NETNS_DIR.resolve(ns), LinkOption.NOFOLLOW_LINKS)) {
                out.add(new Finding(Kind.NETNS, NETNS_DIR.resolve(ns).toString()));
            }
        }
        if (Files.isDirectory(CGROUP_ROOT)) {
            List<Path> roots = new ArrayList<>();
            roots.add(CGROUP_ROOT);
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(CGROUP_ROOT)) {
                for (Path p : ds) {
                    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        roots.add(p);
                    }
                }
            }
            for (Path r : roots) {
                if (Files.isDirectory(r.resolve(marks.cgroupName()), LinkOption.NOFOLLOW_LINKS)) {
                    out.add(new Finding(Kind.CGROUP, r.resolve(marks.cgroupName()).toString()));
                }
            }
        }
        if (Files.isDirectory(CNI_RESULTS)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(CNI_RESULTS)) {
                for (Path f : ds) {
                    if (Files.isRegularFile(f) && Files.readString(f).contains(dirText)) {
                        out.add(new Finding(Kind.CNI_CACHE, f.toString()));
                    }
                }
            } catch (IOException e) {
                // A cache entry removed while we read it is no finding.
            }
        }
        if (Files.exists(marks.runDir(), LinkOption.NOFOLLOW_LINKS)) {
            out.add(new Finding(Kind.RUN_DIR, marks.runDir().toString()));
        }
        return new Footprint(out);
    }

    /** {@code "10.201.7."} for {@code 10.201.7.0/24}; null when there is no IPv4 /24 to look for. */
    static String subnetPrefix(String subnet) {
        if (subnet == null || !subnet.endsWith(".0/24")) {
            return null;
        }
        return subnet.substring(0, subnet.length() - "0/24".length());
    }

    private static boolean containsWord(String line, String word) {
        for (String t : line.split("\\s+")) {
            if (t.equals(word) || t.equals(":" + word)) {
                return true;
            }
        }
        return false;
    }

    /** PIDs of processes other than this one whose command line contains {@code text}. */
    static List<Long> pidsNaming(String text) {
        List<Long> out = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!n.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                long pid = Long.parseLong(n);
                if (pid != self && cmdline(pid).contains(text)) {
                    out.add(pid);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc: " + e.getMessage(), e);
        }
        return out;
    }

    /** The command line of {@code pid}, arguments joined by spaces; empty when it is gone. */
    static String cmdline(long pid) {
        try {
            byte[] b = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            return new String(b, StandardCharsets.UTF_8).replace('\0', ' ').strip();
        } catch (IOException e) {
            return "";
        }
    }

    private static String firstLine(Path f) {
        try {
            return Files.readString(f).lines().findFirst().orElse("").strip();
        } catch (IOException e) {
            return "unreadable";
        }
    }

    private static Path real(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p;
        }
    }

    private static CommandResult run(CommandRunner runner, String... argv) throws IOException {
        try {
            return runner.run(Command.of(argv).withTimeout(TIMEOUT)).checkSuccess();
        } catch (CommandException e) {
            throw new IOException(e.getMessage(), e);
        }
    }
}
