package dev.nodekit.spec.cni;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

/**
 * The {@code ipam} object of a network configuration: {@code type} (the IPAM plugin to delegate to)
 * plus that plugin's keys. host-local's keys are modelled: {@code ranges} (range sets), the legacy
 * single range at top level ({@code subnet}, {@code rangeStart}, {@code rangeEnd}, {@code gateway}),
 * {@code routes}, {@code dataDir}, {@code resolvConf}. Everything else (static's {@code addresses},
 * dhcp's options...) stays in {@link #extra()}. An empty object ({@code "ipam": {}}) is valid: the
 * bridge plugin reads it as "layer 2 only".
 *
 * @param type       the IPAM plugin binary, absent in {@code "ipam": {}}
 * @param ranges     host-local range sets
 * @param subnet     legacy single range: subnet (a CIDR)
 * @param rangeStart legacy single range: first address
 * @param rangeEnd   legacy single range: last address
 * @param gateway    legacy single range: gateway
 * @param routes     routes to return in the result
 * @param dataDir    host-local's state directory (default {@code /var/lib/cni/networks})
 * @param resolvConf a resolv.conf-format file whose content becomes the result's {@code dns}
 * @param extra      all other keys, kept as read
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record IpamConfig(Optional<String> type, List<List<IpRange>> ranges, Optional<String> subnet,
        Optional<String> rangeStart, Optional<String> rangeEnd, Optional<String> gateway, List<Route> routes,
        Optional<String> dataDir, Optional<String> resolvConf, Map<String, Object> extra) implements CniJson {

    private static final String[] KNOWN = {"type", "ranges", "subnet", "rangeStart", "rangeEnd", "gateway", "routes",
        "dataDir", "resolvConf"};

    public IpamConfig {
        type = Check.optional(type);
        ranges = Check.rangeSets(ranges, "ranges");
        subnet = Check.optionalCidr(subnet, "subnet");
        rangeStart = Check.optionalIp(rangeStart, "rangeStart");
        rangeEnd = Check.optionalIp(rangeEnd, "rangeEnd");
        gateway = Check.optionalIp(gateway, "gateway");
        routes = Check.list(routes, "routes");
        dataDir = Check.optional(dataDir);
        resolvConf = Check.optional(resolvConf);
        extra = Check.extra(extra, KNOWN);
    }

    /** A host-local configuration with range sets and routes. */
    public static IpamConfig hostLocal(List<List<IpRange>> ranges, List<Route> routes) {
        return new IpamConfig(Optional.of("host-local"), ranges, Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), routes, Optional.empty(), Optional.empty(), Map.of());
    }

    /** The legacy single range, when {@code subnet} is set. */
    public Optional<IpRange> legacyRange() {
        if (subnet.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new IpRange(subnet.get(), rangeStart, rangeEnd, gateway, Map.of()));
    }

    /** host-local's view: the legacy range (as its own set) first, then {@link #ranges()}. */
    public List<List<IpRange>> allRanges() {
        Optional<IpRange> legacy = legacyRange();
        if (legacy.isEmpty()) {
            return ranges;
        }
        List<List<IpRange>> out = new ArrayList<>(ranges.size() + 1);
        out.add(List.of(legacy.get()));
        out.addAll(ranges);
        return List.copyOf(out);
    }

    static IpamConfig read(JsonIn in) throws IOException {
        in.beginObject("an ipam object");
        String type = null;
        List<List<IpRange>> ranges = null;
        String subnet = null;
        String rangeStart = null;
        String rangeEnd = null;
        String gateway = null;
        List<Route> routes = null;
        String dataDir = null;
        String resolvConf = null;
        Map<String, Object> extra = null;
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "type":
                    type = in.string(f);
                    break;
                case "ranges":
                    ranges = IpRange.readRangeSets(in, f);
                    break;
                case "subnet":
                    subnet = in.string(f);
                    break;
                case "rangeStart":
                    rangeStart = in.string(f);
                    break;
                case "rangeEnd":
                    rangeEnd = in.string(f);
                    break;
                case "gateway":
                    gateway = in.string(f);
                    break;
                case "routes":
                    routes = Route.readList(in, f);
                    break;
                case "dataDir":
                    dataDir = in.string(f);
                    break;
                case "resolvConf":
                    resolvConf = in.string(f);
                    break;
                default:
                    extra = in.extra(extra, f);
            }
        }
        try {
            return new IpamConfig(Optional.ofNullable(type), ranges, Optional.ofNullable(subnet),
                    Optional.ofNullable(rangeStart), Optional.ofNullable(rangeEnd), Optional.ofNullable(gateway), routes,
                    Optional.ofNullable(dataDir), Optional.ofNullable(resolvConf), extra);
        } catch (IllegalArgumentException e) {
            throw in.invalid(e);
        }
    }

    @Override
    public void writeJson(JsonGenerator g) throws IOException {
        g.writeStartObject();
        Out.string(g, "type", type);
        Out.string(g, "subnet", subnet);
        Out.string(g, "rangeStart", rangeStart);
        Out.string(g, "rangeEnd", rangeEnd);
        Out.string(g, "gateway", gateway);
        Out.rangeSets(g, "ranges", ranges);
        Out.values(g, "routes", routes);
        Out.string(g, "dataDir", dataDir);
        Out.string(g, "resolvConf", resolvConf);
        JsonValues.writeFields(g, extra);
        g.writeEndObject();
    }
}
