package dev.nodekit.conformance.cni;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.exec.Executables;

/**
 * The host side of the suite, all through iproute2, nsenter and ping child processes (never
 * {@code setns} on a JVM thread): throwaway network namespaces, reading links and addresses in a
 * namespace or on the host, deleting only links the suite created, pinging from inside a namespace.
 */
final class HostNet {
    static final String NETNS_DIR = "/var/run/netns/";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final CommandRunner runner;

    HostNet(CommandRunner runner) {
        this.runner = runner;
    }

    /** The path runtimes pass as CNI_NETNS for a named namespace. */
    static String netnsPath(String name) {
        return NETNS_DIR + name;
    }

    /** Creates the named namespace (fails if it exists). */
    void addNetns(String name) throws IOException, InterruptedException {
        checked(List.of("ip", "netns", "add", name), "create netns " + name);
    }

    /** Deletes the named namespace; false when it was not there. */
    boolean deleteNetns(String name) throws IOException, InterruptedException {
        if (!Files.exists(Path.of(netnsPath(name)))) {
            return false;
        }
        return run(List.of("ip", "netns", "delete", name)).succeeded();
    }

    /** {@code ip -j addr show dev IFNAME} inside the namespace at {@code nsPath}; empty when there is no such link. */
    Optional<JsonNode> linkIn(String nsPath, String ifname) throws IOException, InterruptedException {
        return link(List.of("nsenter", "--net=" + nsPath, "ip", "-j", "addr", "show", "dev", ifname),
                "read " + ifname + " in " + nsPath);
    }

    /** Deletes a link inside the namespace; false when it was not there. */
    boolean deleteLinkIn(String nsPath, String ifname) throws IOException, InterruptedException {
        return run(List.of("nsenter", "--net=" + nsPath, "ip", "link", "delete", ifname)).succeeded();
    }

    /** {@code ip -j addr show dev NAME} in the host namespace; empty when there is no such link. */
    Optional<JsonNode> hostLink(String name) throws IOException, InterruptedException {
        return link(List.of("ip", "-j", "addr", "show", "dev", name), "read host link " + name);
    }

    /** Names of the host links enslaved to {@code bridge} (empty when the bridge does not exist). */
    List<String> hostLinksWithMaster(String bridge) throws IOException, InterruptedException {
        CommandResult r = run(List.of("ip", "-j", "link", "show", "master", bridge));
        List<String> out = new ArrayList<>();
        if (!r.succeeded()) {
            return out;
        }
        for (JsonNode l : parse(r.stdout(), "links of " + bridge)) {
            out.add(l.path("ifname").asText());
        }
        return out;
    }

    /** Deletes a host link by name; false when it was not there. */
    boolean deleteHostLink(String name) throws IOException, InterruptedException {
        return run(List.of("ip", "link", "delete", name)).succeeded();
    }

    /** Every IPv4 prefix routed or assigned on the host (all tables), to pick a subnet nobody uses. */
    List<IpCidr> hostIpv4Prefixes() throws IOException, InterruptedException {
        List<IpCidr> out = new ArrayList<>();
        for (JsonNode r : parse(checked(List.of("ip", "-j", "-4", "route", "show", "table", "all"), "read routes").stdout(),
                "routes")) {
            String dst = r.path("dst").asText("");
            if (dst.isEmpty() || dst.equals("default")) {
                continue;
            }
            out.add(IpCidr.parse(dst.contains("/") ? dst : dst + "/32"));
        }
        for (JsonNode l : parse(checked(List.of("ip", "-j", "-4", "addr"), "read addresses").stdout(), "addresses")) {
            for (JsonNode a : l.path("addr_info")) {
                if (a.hasNonNull("local")) {
                    out.add(new IpCidr(IpCidr.parseAddress(a.get("local").asText()), a.path("prefixlen").asInt(32)));
                }
            }
        }
        return out;
    }

    /**
     * Pings {@code address} once from inside the namespace (up to {@code tries} times, 2 s each).
     * Uses iputils {@code ping}, else busybox's.
     */
    CommandResult ping(String nsPath, InetAddress address, int tries) throws IOException, InterruptedException {
        List<String> ping;
        if (Executables.which("ping").isPresent()) {
            ping = List.of("ping", "-n", "-c", "1", "-W", "2", IpCidr.canonical(address));
        } else if (Executables.which("busybox").isPresent()) {
            ping = List.of("busybox", "ping", "-c", "1", "-W", "2", IpCidr.canonical(address));
        } else {
            throw new IOException("neither ping (iputils-ping) nor busybox is installed");
        }
        List<String> argv = new ArrayList<>(List.of("nsenter", "--net=" + nsPath));
        argv.addAll(ping);
        CommandResult r = null;
        for (int i = 0; i < tries; i++) {
            r = run(argv);
            if (r.succeeded()) {
                return r;
            }
        }
        return r;
    }

    /** The value of {@code net.ipv4.ip_forward} ("0"/"1"), empty if unreadable. */
    static Optional<String> ipForward() {
        try {
            return Optional.of(Files.readString(Path.of("/proc/sys/net/ipv4/ip_forward")).strip());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static void setIpForward(String value) throws IOException {
        Files.writeString(Path.of("/proc/sys/net/ipv4/ip_forward"), value + "\n");
    }

    private Optional<JsonNode> link(List<String> argv, String what) throws IOException, InterruptedException {
        CommandResult r = run(argv);
        if (!r.succeeded()) {
            if (r.stderr().contains("does not exist")) {
                return Optional.empty();
            }
            throw new IOException("cannot " + what + ": " + describe(r));
        }
        JsonNode arr = parse(r.stdout(), what);
        return arr.isArray() && arr.size() > 0 ? Optional.of(arr.get(0)) : Optional.empty();
    }

    private CommandResult checked(List<String> argv, String what) throws IOException, InterruptedException {
        CommandResult r = run(argv);
        if (!r.succeeded()) {
            throw new IOException("cannot " + what + " (" + String.join(" ", argv) + "): " + describe(r));
        }
        return r;
    }

    private CommandResult run(List<String> argv) throws IOException, InterruptedException {
        try {
            return runner.run(Command.of(argv).withTimeout(TIMEOUT));
        } catch (CommandException e) {
            if (Thread.interrupted()) {
                throw new InterruptedException(e.getMessage());
            }
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Exit code, stdout and stderr on one short line, for failure messages. */
    static String describe(CommandResult r) {
        return "exit " + r.exitCode() + ", stdout: " + ExecResult.shorten(r.stdout()) + ", stderr: "
                + ExecResult.shorten(r.stderr());
    }

    private static JsonNode parse(String text, String what) throws IOException {
        if (text.isBlank()) {
            return JSON.createArrayNode();
        }
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new IOException("cannot parse iproute2 JSON for " + what + ": " + e.getMessage(), e);
        }
    }
}
