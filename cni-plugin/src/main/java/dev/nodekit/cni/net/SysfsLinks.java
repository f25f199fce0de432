package dev.nodekit.cni.net;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Interfaces of the plugin's own (host) namespace read from {@code /sys/class/net} instead of an exec:
 * whether a bridge exists, its MAC, a port's master and state. sysfs shows the namespace it was
 * mounted in, which for a plugin run by the runtime is the host's. Reads of an interface that
 * disappears meanwhile return empty.
 */
public final class SysfsLinks {
    private static final int IFF_PROMISC = 0x100;

    private final Path sysClassNet;

    /** Links under {@code sysClassNet} (tests pass a temp dir shaped like /sys/class/net). */
    public SysfsLinks(Path sysClassNet) {
        if (sysClassNet == null) {
            throw new IllegalArgumentException("sysClassNet is null");
        }
        this.sysClassNet = sysClassNet;
    }

    /** The real {@code /sys/class/net}. */
    public static SysfsLinks system() {
        return new SysfsLinks(Path.of("/sys/class/net"));
    }

    private Path dir(String name) {
        return sysClassNet.resolve(InterfaceNames.check(name, "interface"));
    }

    /** Whether an interface called {@code name} exists. */
    public boolean exists(String name) {
        return Files.exists(dir(name));
    }

    /** Whether {@code name} exists and is a Linux bridge. */
    public boolean isBridge(String name) {
        return Files.isDirectory(dir(name).resolve("bridge"));
    }

    /** The hardware address, lower case. */
    public Optional<String> mac(String name) {
        return read(name, "address");
    }

    /** The operational state, lower case ({@code up}, {@code down}, {@code lowerlayerdown}...). */
    public Optional<String> operState(String name) {
        return read(name, "operstate");
    }

    /** The interface index. */
    public OptionalInt index(String name) {
        return number(name, "ifindex");
    }

    /** For a veth, the index of its peer (in the peer's namespace). */
    public OptionalInt peerIndex(String name) {
        return number(name, "iflink");
    }

    /** The MTU. */
    public OptionalInt mtu(String name) {
        return number(name, "mtu");
    }

    /** Whether the promiscuous flag is set. */
    public boolean promiscuous(String name) {
        Optional<String> flags = read(name, "flags");
        if (flags.isEmpty()) {
            return false;
        }
        try {
            String f = flags.get();
            int v = Integer.parseInt(f.startsWith("0x") ? f.substring(2) : f, 16);
            return (v & IFF_PROMISC) != 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** The bridge (or bond) {@code name} is a port of. */
    public Optional<String> master(String name) {
        Path link = dir(name).resolve("master");
        if (!Files.isSymbolicLink(link)) {
            return Optional.empty();
        }
        try {
            Path target = Files.readSymbolicLink(link).getFileName();
            return target == null ? Optional.empty() : Optional.of(target.toString());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Whether hairpin mode is on for bridge port {@code name}; empty when it is not a bridge port. */
    public Optional<Boolean> hairpin(String name) {
        Optional<String> v = read(name, "brport/hairpin_mode");
        return v.isEmpty() ? Optional.empty() : Optional.of(!"0".equals(v.get()));
    }

    private Optional<String> read(String name, String attr) {
        Path p = dir(name).resolve(attr);
        try {
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            return Optional.of(new String(Files.readAllBytes(p), StandardCharsets.US_ASCII).strip());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private OptionalInt number(String name, String attr) {
        Optional<String> v = read(name, attr);
        if (v.isEmpty()) {
            return OptionalInt.empty();
        }
        try {
            return OptionalInt.of(Integer.parseInt(v.get()));
        } catch (NumberFormatException e) {
            return OptionalInt.empty();
        }
    }
}
