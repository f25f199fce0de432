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
 * A route, in a result ({@code routes}) or in an IPAM configuration (host-local {@code routes}):
 * {@code {"dst":"0.0.0.0/0","gw":"10.1.0.1","mtu":1450,"advmss":1400,"priority":100,"table":100,"scope":0}}.
 * Everything but {@code dst} and {@code gw} is new in spec 1.1.0.
 *
 * @param dst      destination, a CIDR
 * @param gw       next hop; absent means the default gateway of the interface
 * @param mtu      route MTU, 0 = not set (Go's zero value; written only when non-zero)
 * @param advmss   advertised MSS, 0 = not set
 * @param priority route priority (metric), 0 = not set
 * @param table    routing table ID, when set
 * @param scope    route scope when set (0 global, 253 link, 254 host)
 * @param extra    unknown keys, kept as read
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record Route(String dst, Optional<String> gw, int mtu, int advmss, int priority, OptionalInt table,
        OptionalInt scope, Map<String, Object> extra) implements CniJson {

    private static final String[] KNOWN = {"dst", "gw", "mtu", "advmss", "priority", "table", "scope"};

    public Route {
        Check.cidr(dst, "dst");
        gw = Check.optionalIp(gw, "gw");
        Check.nonNegative(mtu, "mtu");
        Check.nonNegative(advmss, "advmss");
        Check.nonNegative(priority, "priority");
        table = Check.optional(table);
        scope = Check.optional(scope);
        if (table.isPresent() && table.getAsInt() < 0) {
            throw Check.invalid("table", table.getAsInt() + " is negative");
        }
        if (scope.isPresent() && (scope.getAsInt() < 0 || scope.getAsInt() > 255)) {
            throw Check.invalid("scope", scope.getAsInt() + " is not in 0..255");
        }
        extra = Check.extra(extra, KNOWN);
    }

    /** A route to {@code dst} through the interface's default gateway. */
    public static Route of(String dst) {
        return new Route(dst, Optional.empty(), 0, 0, 0, OptionalInt.empty(), OptionalInt.empty(), Map.of());
    }

    /** A route to {@code dst} through {@code gw}. */
    public static Route of(String dst, String gw) {
        return new Route(dst, Optional.of(gw), 0, 0, 0, OptionalInt.empty(), OptionalInt.empty(), Map.of());
    }

    /** 4 or 6: the family of {@code dst}. */
    public int family() {
        return Ip.cidrFamily(dst);
    }

    /** Whether any attribute introduced by spec 1.1.0 (mtu, advmss, priority, table, scope) is set. */
    public boolean hasV11Attributes() {
        return mtu != 0 || advmss != 0 || priority != 0 || table.isPresent() || scope.isPresent();
    }

    /** This route with only what spec versions before 1.1.0 know. */
    public Route withoutV11Attributes() {
        if (!hasV11Attributes()) {
            return this;
        }
        return new Route(dst, gw, 0, 0, 0, OptionalInt.empty(), OptionalInt.empty(), extra);
    }

    /** The first 1.1.0-only attribute that is set, for error messages; null if none. */
    String firstV11Attribute() {
        if (mtu != 0) {
            return "mtu";
        }
        if (advmss != 0) {
            return "advmss";
        }
        if (priority != 0) {
            return "priority";
        }
        if (table.isPresent()) {
            return "table";
        }
        return scope.isPresent() ? "scope" : null;
    }

    static Route read(JsonIn in) throws IOException {
        in.beginObject("a route object");
        String dst = null;
        String gw = null;
        int mtu = 0;
        int advmss = 0;
        int priority = 0;
        OptionalInt table = OptionalInt.empty();
        OptionalInt scope = OptionalInt.empty();
        Map<String, Object> extra = null;
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "dst":
                    dst = in.string(f);
                    break;
                case "gw":
                    gw = in.string(f);
                    break;
                case "mtu":
                    mtu = in.intOrZero(f);
                    break;
                case "advmss":
                    advmss = in.intOrZero(f);
                    break;
                case "priority":
                    priority = in.intOrZero(f);
                    break;
                case "table":
                    table = in.optionalInt(f);
                    break;
                case "scope":
                    scope = in.optionalInt(f);
                    break;
                default:
                    extra = in.extra(extra, f);
            }
        }
        try {
            return new Route(dst, Optional.ofNullable(gw), mtu, advmss, priority, table, scope, extra);
        } catch (IllegalArgumentException e) {
            throw in.invalid(e);
        }
    }

    static List<Route> readList(JsonIn in, String field) throws IOException {
        List<Route> out = new ArrayList<>();
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

    @Override
    public void writeJson(JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeStringField("dst", dst);
        Out.string(g, "gw", gw);
        Out.nonZero(g, "mtu", mtu);
        Out.nonZero(g, "advmss", advmss);
        Out.nonZero(g, "priority", priority);
        Out.number(g, "table", table);
        Out.number(g, "scope", scope);
        JsonValues.writeFields(g, extra);
        g.writeEndObject();
    }
}
