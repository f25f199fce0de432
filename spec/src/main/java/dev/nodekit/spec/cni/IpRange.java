package dev.nodekit.spec.cni;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

/**
 * One host-local address range: {@code {"subnet":"10.1.0.0/16","rangeStart":"10.1.1.2","rangeEnd":"10.1.1.254",
 * "gateway":"10.1.0.1"}}. A <em>range set</em> is a list of these (one address is allocated per set);
 * both {@code ipam.ranges} and the {@code ipRanges} capability are lists of range sets.
 *
 * <p>Only the format is checked here; host-local's own rules (start and end inside the subnet,
 * defaults {@code .2}/{@code .254}/{@code .1}, no overlaps) belong to the allocator.
 *
 * @param subnet     the subnet, a CIDR
 * @param rangeStart first allocatable address (inclusive)
 * @param rangeEnd   last allocatable address (inclusive)
 * @param gateway    the gateway, never allocated
 * @param extra      unknown keys, kept as read
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record IpRange(String subnet, Optional<String> rangeStart, Optional<String> rangeEnd, Optional<String> gateway,
        Map<String, Object> extra) implements CniJson {

    private static final String[] KNOWN = {"subnet", "rangeStart", "rangeEnd", "gateway"};

    public IpRange {
        Check.cidr(subnet, "subnet");
        rangeStart = Check.optionalIp(rangeStart, "rangeStart");
        rangeEnd = Check.optionalIp(rangeEnd, "rangeEnd");
        gateway = Check.optionalIp(gateway, "gateway");
        extra = Check.extra(extra, KNOWN);
    }

    /** A whole subnet with host-local's defaults. */
    public static IpRange of(String subnet) {
        return new IpRange(subnet, Optional.empty(), Optional.empty(), Optional.empty(), Map.of());
    }

    /** A subnet with an explicit gateway. */
    public static IpRange of(String subnet, String gateway) {
        return new IpRange(subnet, Optional.empty(), Optional.empty(), Optional.ofNullable(gateway), Map.of());
    }

    static IpRange read(JsonIn in) throws IOException {
        in.beginObject("a range object");
        String subnet = null;
        String start = null;
        String end = null;
        String gateway = null;
        Map<String, Object> extra = null;
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "subnet":
                    subnet = in.string(f);
                    break;
                case "rangeStart":
                    start = in.string(f);
                    break;
                case "rangeEnd":
                    end = in.string(f);
                    break;
                case "gateway":
                    gateway = in.string(f);
                    break;
                default:
                    extra = in.extra(extra, f);
            }
        }
        try {
            return new IpRange(subnet, Optional.ofNullable(start), Optional.ofNullable(end), Optional.ofNullable(gateway),
                    extra);
        } catch (IllegalArgumentException e) {
            throw in.invalid(e);
        }
    }

    /** Reads a list of range sets ({@code [[{...},{...}],[{...}]]}). */
    static List<List<IpRange>> readRangeSets(JsonIn in, String field) throws IOException {
        List<List<IpRange>> out = new ArrayList<>();
        if (in.beginArray(field)) {
            for (int i = 0; in.nextElement(); i++) {
                in.enter(i);
                List<IpRange> set = new ArrayList<>();
                if (in.token() != JsonToken.START_ARRAY) {
                    throw in.mismatch(null, "a range set (an array of ranges)");
                }
                for (int j = 0; in.nextElement(); j++) {
                    in.enter(j);
                    set.add(read(in));
                    in.leave();
                }
                if (set.isEmpty()) {
                    throw in.invalid(null, "empty range set");
                }
                out.add(set);
                in.leave();
            }
            in.leave();
        }
        return out;
    }

    @Override
    public void writeJson(JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeStringField("subnet", subnet);
        Out.string(g, "rangeStart", rangeStart);
        Out.string(g, "rangeEnd", rangeEnd);
        Out.string(g, "gateway", gateway);
        JsonValues.writeFields(g, extra);
        g.writeEndObject();
    }
}
