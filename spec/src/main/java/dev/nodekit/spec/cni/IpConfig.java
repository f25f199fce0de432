package dev.nodekit.spec.cni;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

/**
 * An IP address a plugin assigned (result {@code ips[]}):
 * {@code {"address":"10.1.0.5/16","gateway":"10.1.0.1","interface":2}}, plus {@code "version":"4"}
 * in results before 1.0.0. The version is not stored: it is derived from the address when writing
 * a 0.3.x/0.4.0 result, and checked against the address when read.
 *
 * @param address        the address with its prefix length (host bits kept), e.g. {@code 10.1.0.5/16}
 * @param gateway        the default gateway for this subnet, when there is one
 * @param interfaceIndex index into the result's {@code interfaces} (JSON {@code interface}); IPAM
 *                       plugins leave it out, the main plugin fills it in
 * @param extra          unknown keys, kept as read
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record IpConfig(String address, Optional<String> gateway, OptionalInt interfaceIndex,
        Map<String, Object> extra) implements CniJson {

    private static final String[] KNOWN = {"address", "gateway", "interface", "version"};

    public IpConfig {
        Check.cidr(address, "address");
        gateway = Check.optionalIp(gateway, "gateway");
        interfaceIndex = Check.optional(interfaceIndex);
        if (interfaceIndex.isPresent() && interfaceIndex.getAsInt() < 0) {
            throw Check.invalid("interface", interfaceIndex.getAsInt() + " is negative");
        }
        extra = Check.extra(extra, KNOWN);
    }

    /** An address without gateway or interface (what an IPAM plugin returns without a gateway). */
    public static IpConfig of(String address) {
        return new IpConfig(address, Optional.empty(), OptionalInt.empty(), Map.of());
    }

    /** An address with its gateway. */
    public static IpConfig of(String address, String gateway) {
        return new IpConfig(address, Optional.ofNullable(gateway), OptionalInt.empty(), Map.of());
    }

    /** This address attached to {@code interfaces[index]} of the result. */
    public IpConfig withInterface(int index) {
        return new IpConfig(address, gateway, OptionalInt.of(index), extra);
    }

    /** This address without interface index. */
    public IpConfig withoutInterface() {
        return interfaceIndex.isEmpty() ? this : new IpConfig(address, gateway, OptionalInt.empty(), extra);
    }

    /** 4 or 6: the family of the address, the {@code version} of results before 1.0.0. */
    public int family() {
        return Ip.cidrFamily(address);
    }

    static IpConfig read(JsonIn in) throws IOException {
        in.beginObject("an ip object");
        String address = null;
        String gateway = null;
        OptionalInt index = OptionalInt.empty();
        String version = null;
        Map<String, Object> extra = null;
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "address":
                    address = in.string(f);
                    break;
                case "gateway":
                    gateway = in.string(f);
                    break;
                case "interface":
                    index = in.optionalInt(f);
                    break;
                case "version":
                    version = in.string(f);
                    break;
                default:
                    extra = in.extra(extra, f);
            }
        }
        IpConfig ip;
        try {
            ip = new IpConfig(address, Optional.ofNullable(gateway), index, extra);
        } catch (IllegalArgumentException e) {
            throw in.invalid(e);
        }
        if (version != null && !version.isEmpty()) {
            int fam = ip.family();
            if (!(fam == 4 && "4".equals(version)) && !(fam == 6 && "6".equals(version))) {
                throw in.invalid("version", "'" + version + "' does not match address '" + address + "' (IPv"
                        + fam + ")");
            }
        }
        return ip;
    }

    static List<IpConfig> readList(JsonIn in, String field) throws IOException {
        List<IpConfig> out = new ArrayList<>();
        if (in.beginArray(field)) {
            for (int i = 0; in.nextElement(); i++) {
                in.enter(i);
                out.add(read(in));
                in.leave();
            }
            in.leave();
        }
        return out;
    }

    /** Writes the spec 1.0.0+ form (no {@code version}). */
    @Override
    public void writeJson(JsonGenerator g) throws IOException {
        write(g, false);
    }

    /** Writes the object, with the 0.3.x/0.4.0 {@code version} field when {@code withVersion}. */
    void write(JsonGenerator g, boolean withVersion) throws IOException {
        g.writeStartObject();
        if (withVersion) {
            g.writeStringField("version", family() == 4 ? "4" : "6");
        }
        Out.number(g, "interface", interfaceIndex);
        g.writeStringField("address", address);
        Out.string(g, "gateway", gateway);
        JsonValues.writeFields(g, extra);
        g.writeEndObject();
    }
}
