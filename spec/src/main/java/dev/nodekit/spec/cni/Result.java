package dev.nodekit.spec.cni;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

/**
 * A plugin result (ADD output, {@code prevResult}) in any spec version from 0.1.0 to 1.1.0, held in
 * the 1.x model and written in the shape of its {@link #cniVersion()}:
 * <ul>
 * <li>0.1.0/0.2.0: {@code {"cniVersion","ip4":{"ip","gateway","routes"},"ip6":{...},"dns"}}: at most
 *     one address per family, no interfaces, routes under the family of their destination;</li>
 * <li>0.3.0/0.3.1/0.4.0: {@code interfaces}, {@code ips[]} with {@code version}, {@code routes}, {@code dns};</li>
 * <li>1.0.0: the same without {@code ips[].version};</li>
 * <li>1.1.0: plus interface {@code mtu/socketPath/pciID} and route {@code mtu/advmss/priority/table/scope}.</li>
 * </ul>
 * Reading accepts what Go's types accept for the same version (1.1.0-only attributes are read in
 * any rich version and written back as they are); {@link #convertTo} does the version changes.
 * Unknown keys, at the top level and inside every element, are kept and written back.
 *
 * <p>Validation: every address is a CIDR, gateways are IP addresses, {@code ips[].interface} indexes
 * an existing interface, and a 0.1.0/0.2.0 result only holds what that shape can express.
 *
 * @param cniVersion the spec version, one of {@link CniVersion#ALL}
 * @param interfaces interfaces created or configured (none in IPAM results and 0.1.0/0.2.0)
 * @param ips        addresses assigned
 * @param routes     routes installed
 * @param dns        DNS settings, when any were returned
 * @param extra      unknown top-level keys, kept as read
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record Result(CniVersion cniVersion, List<Interface> interfaces, List<IpConfig> ips, List<Route> routes,
        Optional<Dns> dns, Map<String, Object> extra) implements CniJson {

    private static final String[] KNOWN = {"cniVersion", "interfaces", "ips", "routes", "dns", "ip4", "ip6"};

    public Result {
        Check.required(cniVersion, "cniVersion");
        if (!cniVersion.isKnown()) {
            throw Check.invalid("cniVersion", "unsupported result version " + cniVersion + " (known: " + CniVersion.ALL
                    + ")");
        }
        interfaces = Check.list(interfaces, "interfaces");
        ips = Check.list(ips, "ips");
        routes = Check.list(routes, "routes");
        dns = Check.optional(dns);
        extra = Check.extra(extra, KNOWN);
        for (int i = 0; i < ips.size(); i++) {
            IpConfig ip = ips.get(i);
            if (ip.interfaceIndex().isPresent() && ip.interfaceIndex().getAsInt() >= interfaces.size()) {
                throw Check.invalid("ips[" + i + "].interface", "index " + ip.interfaceIndex().getAsInt()
                        + " is out of range: the result has " + interfaces.size() + " interface(s)");
            }
        }
        if (cniVersion.isBefore(CniVersion.V0_3_0)) {
            String problem = legacyProblem(cniVersion, interfaces, ips, routes);
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
        }
    }

    /** A result without unknown keys. */
    public static Result of(CniVersion cniVersion, List<Interface> interfaces, List<IpConfig> ips, List<Route> routes,
            Optional<Dns> dns) {
        return new Result(cniVersion, interfaces, ips, routes, dns, Map.of());
    }

    /** Why this content cannot be written as a 0.1.0/0.2.0 result, or null. */
    private static String legacyProblem(CniVersion v, List<Interface> interfaces, List<IpConfig> ips,
            List<Route> routes) {
        if (!interfaces.isEmpty()) {
            return "interfaces: a " + v + " result has no interfaces";
        }
        boolean v4 = false;
        boolean v6 = false;
        for (int i = 0; i < ips.size(); i++) {
            IpConfig ip = ips.get(i);
            int fam = ip.family();
            if ((fam == 4 && v4) || (fam == 6 && v6)) {
                return "ips[" + i + "]: a " + v + " result holds one IPv4 and one IPv6 address";
            }
            v4 |= fam == 4;
            v6 |= fam == 6;
            if (ip.interfaceIndex().isPresent()) {
                return "ips[" + i + "].interface: a " + v + " result has no interfaces";
            }
            String bad = legacyClash(ip);
            if (bad != null) {
                return "ips[" + i + "]." + bad + ": collides with the " + v + " ip4/ip6 field of that name";
            }
        }
        for (int i = 0; i < routes.size(); i++) {
            Route r = routes.get(i);
            int fam = r.family();
            if ((fam == 4 && !v4) || (fam == 6 && !v6)) {
                return "routes[" + i + "].dst: a " + v + " result keeps routes under ip" + fam
                        + ", and it has no IPv" + fam + " address";
            }
            String attr = r.firstV11Attribute();
            if (attr != null) {
                return "routes[" + i + "]." + attr + ": not expressible in a " + v + " result";
            }
        }
        return null;
    }

    /** An unknown key of an address that the ip4/ip6 object of 0.1.0/0.2.0 uses for something else. */
    private static String legacyClash(IpConfig ip) {
        if (ip.extra().containsKey("ip")) {
            return "ip";
        }
        return ip.extra().containsKey("routes") ? "routes" : null;
    }

    /** Whether this is a 0.1.0/0.2.0 result (the {@code ip4}/{@code ip6} shape). */
    public boolean isLegacy() {
        return cniVersion.isBefore(CniVersion.V0_3_0);
    }

    // ------------------------------------------------------------------ conversion

    /**
     * This result in {@code target}'s version, failing (code 1) rather than losing anything.
     *
     * @throws CniException code 1 when {@code target} is not a known version, when the result has no
     *                      address and {@code target} is 0.1.0/0.2.0 (libcni's rule), or when content
     *                      would be lost (the message names the first such field)
     */
    public Result convertTo(CniVersion target) throws CniException {
        return convertTo(target, DataLoss.REJECT);
    }

    /**
     * This result in {@code target}'s version. Every pair of versions in {@link CniVersion#ALL} converts,
     * as in libcni; up-conversion never loses anything, down-conversion follows {@code policy}.
     *
     * @throws CniException code 1, see {@link #convertTo(CniVersion)}
     */
    public Result convertTo(CniVersion target, DataLoss policy) throws CniException {
        if (target == null || !target.isKnown()) {
            throw new CniException(CniError.INCOMPATIBLE_CNI_VERSION, "cannot convert a result to CNI version "
                    + target + ": known versions are " + CniVersion.ALL);
        }
        if (target.equals(cniVersion)) {
            return this;
        }
        boolean drop = policy == DataLoss.DROP;
        if (target.isAtLeast(CniVersion.V0_3_0)) {
            List<Interface> ifs = interfaces;
            List<Route> rs = routes;
            if (target.isBefore(CniVersion.V1_1_0)) {
                ifs = new ArrayList<>(interfaces.size());
                for (int i = 0; i < interfaces.size(); i++) {
                    Interface itf = interfaces.get(i);
                    String attr = itf.firstV11Attribute();
                    if (attr != null && !drop) {
                        throw loss(target, "interfaces[" + i + "]." + attr, "is new in 1.1.0");
                    }
                    ifs.add(itf.withoutV11Attributes());
                }
                rs = withoutV11(routes, target, drop);
            }
            return new Result(target, ifs, ips, rs, dns, extra);
        }
        if (isLegacy()) {
            // 0.1.0 and 0.2.0 share one shape (libcni's types020 answers for both as they are).
            return new Result(target, interfaces, ips, routes, dns, extra);
        }
        if (ips.isEmpty()) {
            throw new CniException(CniError.INCOMPATIBLE_CNI_VERSION, "cannot convert the " + cniVersion
                    + " result to " + target + ": it has no IP address, and a " + target
                    + " result is made of ip4/ip6");
        }
        if (!interfaces.isEmpty() && !drop) {
            throw loss(target, "interfaces[0]", "'" + interfaces.get(0).name() + "': a " + target
                    + " result has no interfaces");
        }
        IpConfig ip4 = null;
        IpConfig ip6 = null;
        for (int i = 0; i < ips.size(); i++) {
            IpConfig ip = ips.get(i);
            boolean v4 = ip.family() == 4;
            if ((v4 && ip4 != null) || (!v4 && ip6 != null)) {
                if (!drop) {
                    throw loss(target, "ips[" + i + "]", "'" + ip.address() + "': a " + target
                            + " result holds one address per family");
                }
                continue;
            }
            if (ip.interfaceIndex().isPresent() && !drop) {
                throw loss(target, "ips[" + i + "].interface", "a " + target + " result has no interfaces");
            }
            String clash = legacyClash(ip);
            if (clash != null && !drop) {
                throw loss(target, "ips[" + i + "]." + clash, "collides with the ip4/ip6 field of that name");
            }
            IpConfig kept = ip.withoutInterface();
            if (clash != null) {
                Map<String, Object> x = new LinkedHashMap<>(kept.extra());
                x.remove("ip");
                x.remove("routes");
                kept = new IpConfig(kept.address(), kept.gateway(), kept.interfaceIndex(), x);
            }
            if (v4) {
                ip4 = kept;
            } else {
                ip6 = kept;
            }
        }
        List<IpConfig> kept = new ArrayList<>(2);
        if (ip4 != null) {
            kept.add(ip4);
        }
        if (ip6 != null) {
            kept.add(ip6);
        }
        List<Route> rs = new ArrayList<>(routes.size());
        for (int i = 0; i < routes.size(); i++) {
            Route r = routes.get(i);
            boolean v4 = r.family() == 4;
            if ((v4 && ip4 == null) || (!v4 && ip6 == null)) {
                if (!drop) {
                    throw loss(target, "routes[" + i + "]", "'" + r.dst() + "': a " + target
                            + " result has no IPv" + r.family() + " address to keep it under");
                }
                continue;
            }
            String attr = r.firstV11Attribute();
            if (attr != null && !drop) {
                throw loss(target, "routes[" + i + "]." + attr, "is new in 1.1.0");
            }
            rs.add(r.withoutV11Attributes());
        }
        return new Result(target, List.of(), kept, rs, dns, extra);
    }

    private List<Route> withoutV11(List<Route> routes, CniVersion target, boolean drop) throws CniException {
        List<Route> out = new ArrayList<>(routes.size());
        for (int i = 0; i < routes.size(); i++) {
            Route r = routes.get(i);
            String attr = r.firstV11Attribute();
            if (attr != null && !drop) {
                throw loss(target, "routes[" + i + "]." + attr, "is new in 1.1.0");
            }
            out.add(r.withoutV11Attributes());
        }
        return out;
    }

    private CniException loss(CniVersion target, String field, String why) {
        return new CniException(CniError.INCOMPATIBLE_CNI_VERSION, field + ": " + why + " (converting the "
                + cniVersion + " result to " + target + " would lose it; DataLoss.DROP drops it)");
    }

    /** This result printed in {@code target}'s version; see {@link #convertTo(CniVersion)}. */
    public String toJson(CniVersion target) throws CniException {
        return convertTo(target).toJson();
    }

    // ------------------------------------------------------------------ decoding

    /**
     * Decodes a result of any version in {@link CniVersion#ALL}; the shape is chosen by its
     * {@code cniVersion}, which is required.
     *
     * @throws CniException code 6 for malformed content (the message names the field), code 1 for an
     *                      unknown version
     */
    public static Result parse(String json) throws CniException {
        return finish(Json.open(json), null);
    }

    /** {@link #parse(String)} for bytes (UTF-8/16/32 detected). */
    public static Result parse(byte[] json) throws CniException {
        return finish(Json.open(json), null);
    }

    /**
     * Decodes a result, taking {@code defaultVersion} when it has no {@code cniVersion} (libcni reads a
     * {@code prevResult} in the version of its configuration).
     */
    public static Result parse(String json, CniVersion defaultVersion) throws CniException {
        return finish(Json.open(json), defaultVersion);
    }

    private static Result finish(JsonIn in, CniVersion defaultVersion) throws CniException {
        try {
            Result r = read(in, defaultVersion);
            Json.finish(in);
            return r;
        } catch (DecodeFailure | IOException e) {
            throw Json.failure(e, false);
        }
    }

    static Result read(JsonIn in, CniVersion defaultVersion) throws IOException {
        return build(in, readParts(in), defaultVersion);
    }

    /**
     * What a result object holds before its version is known: in a network configuration the
     * {@code cniVersion} that decides a {@code prevResult} without one may come after it.
     */
    static final class Parts {
        CniVersion version;
        List<Interface> interfaces;
        List<IpConfig> ips;
        List<Route> routes;
        Dns dns;
        IpConfig ip4;
        IpConfig ip6;
        List<Route> legacyRoutes;
        String richKey;
        String legacyKey;
        Map<String, Object> extra;
    }

    static Parts readParts(JsonIn in) throws IOException {
        in.beginObject("a result object");
        Parts r = new Parts();
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "cniVersion":
                    r.version = in.version(f);
                    break;
                case "interfaces":
                    r.interfaces = Interface.readList(in, f);
                    r.richKey = f;
                    break;
                case "ips":
                    r.ips = IpConfig.readList(in, f);
                    r.richKey = f;
                    break;
                case "routes":
                    r.routes = Route.readList(in, f);
                    r.richKey = f;
                    break;
                case "dns":
                    if (!in.isNull()) {
                        in.enter(f);
                        r.dns = Dns.read(in);
                        in.leave();
                    }
                    break;
                case "ip4":
                case "ip6":
                    if (!in.isNull()) {
                        if (r.legacyRoutes == null) {
                            r.legacyRoutes = new ArrayList<>();
                        }
                        boolean v4 = "ip4".equals(f);
                        in.enter(f);
                        IpConfig ip = readLegacyIp(in, v4 ? 4 : 6, r.legacyRoutes);
                        in.leave();
                        if (v4) {
                            r.ip4 = ip;
                        } else {
                            r.ip6 = ip;
                        }
                        r.legacyKey = f;
                    }
                    break;
                default:
                    r.extra = in.extra(r.extra, f);
            }
        }
        return r;
    }

    /** Checks the parts against their version ({@code defaultVersion} when they have none) and builds the result. */
    static Result build(JsonIn in, Parts r, CniVersion defaultVersion) {
        CniVersion version = r.version;
        if (version == null) {
            if (defaultVersion == null) {
                throw in.invalid("cniVersion", "required");
            }
            version = defaultVersion;
        }
        if (!version.isKnown()) {
            throw in.unsupportedVersion("cniVersion", "unsupported result version " + version
                    + " (this implementation reads " + CniVersion.ALL + ")");
        }
        boolean legacy = version.isBefore(CniVersion.V0_3_0);
        if (legacy && r.richKey != null) {
            throw in.invalid(r.richKey, "not valid in a " + version + " result (results before 0.3.0 use ip4/ip6)");
        }
        if (!legacy && r.legacyKey != null) {
            throw in.invalid(r.legacyKey, "not valid in a " + version + " result (ip4/ip6 ended with 0.2.0)");
        }
        List<IpConfig> ips = r.ips;
        List<Route> routes = r.routes;
        if (legacy) {
            ips = new ArrayList<>(2);
            if (r.ip4 != null) {
                ips.add(r.ip4);
            }
            if (r.ip6 != null) {
                ips.add(r.ip6);
            }
            routes = r.legacyRoutes;
        }
        try {
            return new Result(version, r.interfaces, ips, routes, Optional.ofNullable(r.dns), r.extra);
        } catch (IllegalArgumentException e) {
            throw in.invalid(e);
        }
    }

    /** Reads a 0.1.0/0.2.0 {@code ip4}/{@code ip6} object; its routes are appended to {@code routes}. */
    private static IpConfig readLegacyIp(JsonIn in, int family, List<Route> routes) throws IOException {
        in.beginObject(family == 4 ? "an ip4 object" : "an ip6 object");
        String ip = null;
        String gateway = null;
        Map<String, Object> extra = null;
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "ip":
                    ip = in.string(f);
                    break;
                case "gateway":
                    gateway = in.string(f);
                    break;
                case "routes":
                    List<Route> rs = Route.readList(in, f);
                    for (int i = 0; i < rs.size(); i++) {
                        if (rs.get(i).family() != family) {
                            throw in.invalid("routes[" + i + "].dst", "'" + rs.get(i).dst() + "' is not an IPv"
                                    + family + " destination");
                        }
                    }
                    routes.addAll(rs);
                    break;
                case "address":
                case "interface":
                case "version":
                    throw in.invalid(f, "not valid in an ip" + family + " object (use ip, gateway, routes)");
                default:
                    extra = in.extra(extra, f);
            }
        }
        if (ip == null) {
            throw in.invalid("ip", "required");
        }
        IpConfig out;
        try {
            out = new IpConfig(ip, Optional.ofNullable(gateway), OptionalInt.empty(), extra);
        } catch (IllegalArgumentException e) {
            // The record calls the field "address"; in this shape it is "ip".
            String msg = e.getMessage();
            throw in.invalid(msg.startsWith("address:") ? "ip" : null,
                    msg.startsWith("address:") ? msg.substring("address: ".length()) : msg);
        }
        if (out.family() != family) {
            throw in.invalid("ip", "'" + ip + "' is not an IPv" + family + " address");
        }
        return out;
    }

    // ------------------------------------------------------------------ encoding

    /** Writes this result in the shape of its own {@link #cniVersion()}. */
    @Override
    public void writeJson(JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeStringField("cniVersion", cniVersion.toString());
        if (isLegacy()) {
            for (IpConfig ip : ips) {
                int fam = ip.family();
                g.writeObjectFieldStart(fam == 4 ? "ip4" : "ip6");
                g.writeStringField("ip", ip.address());
                Out.string(g, "gateway", ip.gateway());
                boolean any = false;
                for (Route r : routes) {
                    if (r.family() == fam) {
                        if (!any) {
                            g.writeArrayFieldStart("routes");
                            any = true;
                        }
                        r.writeJson(g);
                    }
                }
                if (any) {
                    g.writeEndArray();
                }
                JsonValues.writeFields(g, ip.extra());
                g.writeEndObject();
            }
        } else {
            Out.values(g, "interfaces", interfaces);
            if (!ips.isEmpty()) {
                boolean withVersion = cniVersion.isBefore(CniVersion.V1_0_0);
                g.writeArrayFieldStart("ips");
                for (IpConfig ip : ips) {
                    ip.write(g, withVersion);
                }
                g.writeEndArray();
            }
            Out.values(g, "routes", routes);
        }
        if (dns.isPresent()) {
            g.writeFieldName("dns");
            dns.get().writeJson(g);
        }
        JsonValues.writeFields(g, extra);
        g.writeEndObject();
    }
}
