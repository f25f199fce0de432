package dev.nodekit.conformance.cni;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;

/**
 * The spec's rules on what a plugin writes, as plain functions over JSON trees: each returns the
 * list of rules broken (empty = conforming), worded for an operator. They judge any plugin by the
 * spec text, never by nodekit's own types, so they can be unit-tested with hand-written JSON.
 */
public final class CniResultRules {
    private static final ObjectReader STRICT = new ObjectMapper().reader()
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Pattern MAC = Pattern.compile("[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}([0-9A-Fa-f:]*)");

    private CniResultRules() {
    }

    /**
     * Parses a plugin's stdout as exactly one JSON value (a log line before or after it breaks
     * runtimes, which read stdout as the result).
     */
    public static JsonNode parseStdout(String stdout) throws IOException {
        if (stdout.isBlank()) {
            throw new IOException("stdout is empty");
        }
        try {
            return STRICT.readTree(stdout);
        } catch (JsonProcessingException e) {
            throw new IOException("stdout is not one JSON value: " + e.getOriginalMessage() + " in "
                    + ExecResult.shorten(stdout), e);
        }
    }

    /** VERSION answer: {@code cniVersion} a version string, {@code supportedVersions} a list of them including {@code requested}. */
    public static List<String> versionAnswer(JsonNode answer, String requested) {
        List<String> p = new ArrayList<>();
        if (!answer.isObject()) {
            p.add("VERSION answer is not a JSON object");
            return p;
        }
        JsonNode v = answer.get("cniVersion");
        if (v == null || !v.isTextual() || !CniVersions.isVersion(v.asText())) {
            p.add("VERSION answer has no cniVersion string (got " + v + ")");
        }
        JsonNode s = answer.get("supportedVersions");
        if (s == null || !s.isArray()) {
            p.add("VERSION answer has no supportedVersions list (got " + s + ")");
            return p;
        }
        Set<String> seen = new HashSet<>();
        for (JsonNode e : s) {
            if (!e.isTextual() || !CniVersions.isVersion(e.asText())) {
                p.add("supportedVersions has a non-version entry " + e);
            } else {
                seen.add(e.asText());
            }
        }
        if (!seen.contains(requested)) {
            p.add("supportedVersions " + s + " does not contain the requested " + requested);
        }
        return p;
    }

    /**
     * An ADD result for spec {@code version} of a call with {@code ifname} and {@code netns}:
     * {@code cniVersion} echoed; {@code interfaces} with names, MACs in hex, the container interface
     * listed with {@code sandbox} = CNI_NETNS; every {@code ips[]} entry with a CIDR address, a valid
     * {@code interface} index, {@code version} present ("4"/"6", matching) before 1.0.0 and absent
     * from 1.0.0 on, a gateway of the same family inside the address's prefix; routes with a CIDR
     * {@code dst} and an IP {@code gw}. {@code expectIps}: the config has an IPAM, so an address on the
     * container interface is required.
     */
    public static List<String> addResult(JsonNode result, String version, String ifname, String netns,
            boolean expectIps) {
        List<String> p = new ArrayList<>();
        if (!result.isObject()) {
            p.add("ADD result is not a JSON object");
            return p;
        }
        JsonNode cv = result.get("cniVersion");
        if (cv == null || !cv.asText().equals(version)) {
            p.add("cniVersion is " + cv + ", expected the requested \"" + version + "\" (a plugin answers in the "
                    + "version it was called with)");
        }
        JsonNode ifaces = result.path("interfaces");
        int nIfaces = 0;
        if (result.has("interfaces")) {
            if (!ifaces.isArray()) {
                p.add("interfaces is not a list");
            } else {
                nIfaces = ifaces.size();
                for (int i = 0; i < nIfaces; i++) {
                    interfaceEntry(ifaces.get(i), i, p);
                }
            }
        }
        OptionalInt container = containerInterface(result, ifname);
        if (container.isEmpty()) {
            p.add("interfaces has no entry named " + ifname + " (CNI_IFNAME) for the container interface");
        } else {
            String sandbox = ifaces.get(container.getAsInt()).path("sandbox").asText("");
            if (!sandbox.equals(netns)) {
                p.add("interfaces[" + container.getAsInt() + "] (" + ifname + ") has sandbox \"" + sandbox
                        + "\"; a container interface must have sandbox = CNI_NETNS \"" + netns + "\"");
            }
        }
        JsonNode ips = result.get("ips");
        boolean onContainer = false;
        if (ips != null && !ips.isArray()) {
            p.add("ips is not a list");
        } else if (ips != null) {
            for (int i = 0; i < ips.size(); i++) {
                OptionalInt idx = ipEntry(ips.get(i), i, version, nIfaces, p);
                if (container.isPresent() && idx.isPresent() && idx.getAsInt() == container.getAsInt()) {
                    onContainer = true;
                }
            }
        }
        if (expectIps && (ips == null || ips.isEmpty())) {
            p.add("ips is missing or empty although the config has an IPAM");
        } else if (expectIps && container.isPresent() && !onContainer) {
            p.add("no ips entry has interface = " + container.getAsInt() + " (the index of " + ifname
                    + "): the result does not say which address the container got");
        }
        JsonNode routes = result.get("routes");
        if (routes != null) {
            if (!routes.isArray()) {
                p.add("routes is not a list");
            } else {
                for (int i = 0; i < routes.size(); i++) {
                    routeEntry(routes.get(i), i, p);
                }
            }
        }
        JsonNode dns = result.get("dns");
        if (dns != null && !dns.isObject()) {
            p.add("dns is not an object");
        }
        return p;
    }

    /**
     * An error answer: non-zero exit, and on stdout one JSON object with an integer {@code code} and
     * a non-empty {@code msg} ({@code details} and {@code cniVersion}, when present, strings).
     */
    public static List<String> errorAnswer(int exitCode, String stdout) {
        List<String> p = new ArrayList<>();
        if (exitCode == 0) {
            p.add("exit code is 0; an error must exit non-zero");
        }
        JsonNode e;
        try {
            e = parseStdout(stdout);
        } catch (IOException ex) {
            p.add("the error must be JSON on stdout: " + ex.getMessage());
            return p;
        }
        if (!e.isObject()) {
            p.add("the error on stdout is not a JSON object");
            return p;
        }
        JsonNode code = e.get("code");
        if (code == null || !code.isIntegralNumber() || code.asLong() < 0) {
            p.add("the error has no integer code (got " + code + ")");
        }
        JsonNode msg = e.get("msg");
        if (msg == null || !msg.isTextual() || msg.asText().isBlank()) {
            p.add("the error has no msg string (got " + msg + ")");
        }
        if (e.has("details") && !e.get("details").isTextual()) {
            p.add("the error's details is not a string");
        }
        if (e.has("cniVersion") && !e.get("cniVersion").isTextual()) {
            p.add("the error's cniVersion is not a string");
        }
        return p;
    }

    /** The code of an error answer already accepted by {@link #errorAnswer}. */
    public static int errorCode(String stdout) throws IOException {
        return parseStdout(stdout).get("code").asInt();
    }

    /** msg and details of an error answer, joined, for "the message names X" rules. */
    public static String errorText(String stdout) throws IOException {
        JsonNode e = parseStdout(stdout);
        return e.path("msg").asText("") + " " + e.path("details").asText("");
    }

    /**
     * One entry of {@code ip -j addr show dev IFNAME}, compared with what a result claims: the link
     * exists under that name, is administratively up, has {@code mac} (when claimed) and every claimed
     * address with its prefix length.
     */
    public static List<String> linkState(JsonNode link, String ifname, Optional<String> mac, List<IpCidr> addresses) {
        List<String> p = new ArrayList<>();
        if (!ifname.equals(link.path("ifname").asText())) {
            p.add("found link " + link.path("ifname") + " instead of " + ifname);
        }
        boolean up = false;
        for (JsonNode f : link.path("flags")) {
            up |= f.asText().equals("UP");
        }
        if (!up) {
            p.add(ifname + " is not up (flags " + link.path("flags") + ")");
        }
        if (mac.isPresent() && !mac.get().equalsIgnoreCase(link.path("address").asText())) {
            p.add(ifname + " has MAC " + link.path("address").asText() + " but the result claims " + mac.get());
        }
        for (IpCidr a : addresses) {
            boolean found = false;
            for (JsonNode ai : link.path("addr_info")) {
                String local = ai.path("local").asText("");
                try {
                    found |= !local.isEmpty() && IpCidr.parseAddress(local).equals(a.address())
                            && ai.path("prefixlen").asInt(-1) == a.prefixLength();
                } catch (IllegalArgumentException e) {
                    // an address iproute2 prints in a form we do not parse cannot be the claimed one
                }
            }
            if (!found) {
                p.add(ifname + " does not have " + a + " that the result claims (has " + addrs(link) + ")");
            }
        }
        return p;
    }

    /** The index of the {@code interfaces} entry named {@code ifname}, if any. */
    public static OptionalInt containerInterface(JsonNode result, String ifname) {
        JsonNode ifaces = result.path("interfaces");
        for (int i = 0; i < ifaces.size(); i++) {
            if (ifname.equals(ifaces.get(i).path("name").asText())) {
                return OptionalInt.of(i);
            }
        }
        return OptionalInt.empty();
    }

    /** The addresses of the {@code ips} entries whose {@code interface} is {@code index} (unparseable ones skipped). */
    public static List<IpCidr> addressesOn(JsonNode result, int index) {
        List<IpCidr> out = new ArrayList<>();
        for (JsonNode ip : result.path("ips")) {
            if (ip.path("interface").isIntegralNumber() && ip.get("interface").asInt() == index) {
                try {
                    out.add(IpCidr.parse(ip.path("address").asText()));
                } catch (IllegalArgumentException e) {
                    // reported by addResult
                }
            }
        }
        return out;
    }

    /** Gateways of the {@code ips} entries on interface {@code index}. */
    public static List<InetAddress> gatewaysOn(JsonNode result, int index) {
        List<InetAddress> out = new ArrayList<>();
        for (JsonNode ip : result.path("ips")) {
            if (ip.path("interface").isIntegralNumber() && ip.get("interface").asInt() == index
                    && ip.hasNonNull("gateway")) {
                try {
                    out.add(IpCidr.parseAddress(ip.get("gateway").asText()));
                } catch (IllegalArgumentException e) {
                    // reported by addResult
                }
            }
        }
        return out;
    }

    /** True when an {@code ip -j addr} entry carries {@code address}. */
    public static boolean hasAddress(JsonNode link, InetAddress address) {
        for (JsonNode ai : link.path("addr_info")) {
            try {
                if (IpCidr.parseAddress(ai.path("local").asText("")).equals(address)) {
                    return true;
                }
            } catch (IllegalArgumentException e) {
                // not comparable
            }
        }
        return false;
    }

    private static void interfaceEntry(JsonNode e, int i, List<String> p) {
        String at = "interfaces[" + i + "]";
        if (!e.isObject()) {
            p.add(at + " is not an object");
            return;
        }
        if (!e.path("name").isTextual() || e.path("name").asText().isEmpty()) {
            p.add(at + " has no name");
        }
        if (e.has("mac") && !(e.get("mac").isTextual() && MAC.matcher(e.get("mac").asText()).matches())) {
            p.add(at + ".mac " + e.get("mac") + " is not a hardware address");
        }
        if (e.has("sandbox") && !e.get("sandbox").isTextual()) {
            p.add(at + ".sandbox is not a string");
        }
        if (e.has("mtu") && !e.get("mtu").isIntegralNumber()) {
            p.add(at + ".mtu is not an integer");
        }
    }

    private static OptionalInt ipEntry(JsonNode e, int i, String version, int nIfaces, List<String> p) {
        String at = "ips[" + i + "]";
        if (!e.isObject()) {
            p.add(at + " is not an object");
            return OptionalInt.empty();
        }
        IpCidr addr = null;
        try {
            addr = IpCidr.parse(e.path("address").asText(""));
        } catch (IllegalArgumentException ex) {
            p.add(at + ".address " + e.get("address") + " is not an address in CIDR notation: " + ex.getMessage());
        }
        boolean modern = CniVersions.atLeast(version, "1.0.0");
        JsonNode v = e.get("version");
        if (modern && v != null) {
            p.add(at + " has \"version\": " + v + "; ips[].version was removed in 1.0.0");
        } else if (!modern) {
            if (v == null) {
                p.add(at + " has no \"version\"; before 1.0.0 it is required (\"4\" or \"6\")");
            } else if (!v.isTextual() || !(v.asText().equals("4") || v.asText().equals("6"))) {
                p.add(at + ".version is " + v + ", must be \"4\" or \"6\"");
            } else if (addr != null && !v.asText().equals(Integer.toString(addr.family()))) {
                p.add(at + ".version is \"" + v.asText() + "\" but the address is IPv" + addr.family());
            }
        }
        if (e.has("gateway")) {
            try {
                InetAddress gw = IpCidr.parseAddress(e.get("gateway").asText(""));
                if (addr != null && !addr.contains(gw)) {
                    p.add(at + ".gateway " + IpCidr.canonical(gw) + " is not inside " + addr.network());
                }
            } catch (IllegalArgumentException ex) {
                p.add(at + ".gateway " + e.get("gateway") + " is not an IP address");
            }
        }
        JsonNode idx = e.get("interface");
        if (idx == null) {
            p.add(at + " has no \"interface\" index; a plugin result must say which interface the address is on");
            return OptionalInt.empty();
        }
        if (!idx.isIntegralNumber() || idx.asInt() < 0 || idx.asInt() >= nIfaces) {
            p.add(at + ".interface " + idx + " is not an index into interfaces (" + nIfaces + " entries)");
            return OptionalInt.empty();
        }
        return OptionalInt.of(idx.asInt());
    }

    private static void routeEntry(JsonNode e, int i, List<String> p) {
        String at = "routes[" + i + "]";
        try {
            IpCidr.parse(e.path("dst").asText(""));
        } catch (IllegalArgumentException ex) {
            p.add(at + ".dst " + e.get("dst") + " is not in CIDR notation");
        }
        if (e.has("gw")) {
            try {
                IpCidr.parseAddress(e.get("gw").asText(""));
            } catch (IllegalArgumentException ex) {
                p.add(at + ".gw " + e.get("gw") + " is not an IP address");
            }
        }
    }

    private static String addrs(JsonNode link) {
        List<String> out = new ArrayList<>();
        for (JsonNode ai : link.path("addr_info")) {
            out.add(ai.path("local").asText() + "/" + ai.path("prefixlen").asText());
        }
        return out.isEmpty() ? "none" : String.join(", ", out).toLowerCase(Locale.ROOT);
    }
}
