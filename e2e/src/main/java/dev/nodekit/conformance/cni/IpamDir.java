package dev.nodekit.conformance.cni;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads a host-local style IPAM data dir ({@code <dataDir>/<network name>/}): one file per
 * allocated address named by the address, plus {@code lock} and {@code last_reserved_ip.N}, which
 * are bookkeeping and stay after every release. nodekit's host-local writes the same format, plus a
 * {@code .nodekit-format} version marker. As in host-local itself (its {@code GetByID} parses each
 * file name as an IP), only files named by an address in Go's spelling are allocations.
 */
final class IpamDir {
    private IpamDir() {
    }

    /** Names of the allocation files in {@code dir} (sorted); empty when the dir does not exist. */
    static List<String> allocations(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(IpamDir::isAllocation).sorted().toList();
        }
    }

    /** True when the name is an address in Go's spelling (not {@code lock}, {@code last_reserved_ip.*}, markers). */
    static boolean isAllocation(String name) {
        try {
            return IpCidr.canonical(IpCidr.parseAddress(name)).equals(name);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** True when {@code dir} holds the allocation file of {@code address} (Go's file name: canonical text, ':' kept). */
    static boolean holds(Path dir, InetAddress address) {
        return Files.exists(dir.resolve(IpCidr.canonical(address)));
    }
}
