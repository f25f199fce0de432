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
 * An interface a plugin created or configured (result {@code interfaces[]}, spec 0.3.0 and later):
 * {@code {"name":"eth0","mac":"...","mtu":1500,"sandbox":"/run/netns/x","socketPath":"...","pciID":"..."}}.
 * {@code mtu}, {@code socketPath} and {@code pciID} are new in spec 1.1.0.
 *
 * @param name       interface name
 * @param mac        hardware address, when L2 addresses are meaningful
 * @param mtu        MTU, 0 = not set (Go's zero value)
 * @param sandbox    the netns path (or hypervisor id) for container interfaces; absent for host interfaces
 * @param socketPath the socket of a vhost-user or similar interface
 * @param pciID      the PCI address of a device passed to the container
 * @param extra      unknown keys, kept as read
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record Interface(String name, Optional<String> mac, int mtu, Optional<String> sandbox,
        Optional<String> socketPath, Optional<String> pciID, Map<String, Object> extra) implements CniJson {

    private static final String[] KNOWN = {"name", "mac", "mtu", "sandbox", "socketPath", "pciID"};

    public Interface {
        Check.required(name, "name");
        mac = Check.optional(mac);
        Check.nonNegative(mtu, "mtu");
        sandbox = Check.optional(sandbox);
        socketPath = Check.optional(socketPath);
        pciID = Check.optional(pciID);
        extra = Check.extra(extra, KNOWN);
    }

    /** A host-side interface ({@code sandbox} absent). */
    public static Interface host(String name, String mac) {
        return new Interface(name, Optional.ofNullable(mac), 0, Optional.empty(), Optional.empty(), Optional.empty(),
                Map.of());
    }

    /** A container interface inside {@code sandbox} (the netns path). */
    public static Interface container(String name, String mac, String sandbox) {
        return new Interface(name, Optional.ofNullable(mac), 0, Optional.of(sandbox), Optional.empty(),
                Optional.empty(), Map.of());
    }

    /** This interface with {@code mtu} set. */
    public Interface withMtu(int mtu) {
        return new Interface(name, mac, mtu, sandbox, socketPath, pciID, extra);
    }

    /** Whether any attribute introduced by spec 1.1.0 (mtu, socketPath, pciID) is set. */
    public boolean hasV11Attributes() {
        return mtu != 0 || socketPath.isPresent() || pciID.isPresent();
    }

    /** This interface with only what spec versions before 1.1.0 know. */
    public Interface withoutV11Attributes() {
        if (!hasV11Attributes()) {
            return this;
        }
        return new Interface(name, mac, 0, sandbox, Optional.empty(), Optional.empty(), extra);
    }

    String firstV11Attribute() {
        if (mtu != 0) {
            return "mtu";
        }
        if (socketPath.isPresent()) {
            return "socketPath";
        }
        return pciID.isPresent() ? "pciID" : null;
    }

    static Interface read(JsonIn in) throws IOException {
        in.beginObject("an interface object");
        String name = null;
        String mac = null;
        int mtu = 0;
        String sandbox = null;
        String socketPath = null;
        String pciID = null;
        Map<String, Object> extra = null;
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "name":
                    name = in.string(f);
                    break;
                case "mac":
                    mac = in.string(f);
                    break;
                case "mtu":
                    mtu = in.intOrZero(f);
                    break;
                case "sandbox":
                    sandbox = in.string(f);
                    break;
                case "socketPath":
                    socketPath = in.string(f);
                    break;
                case "pciID":
                    pciID = in.string(f);
                    break;
                default:
                    extra = in.extra(extra, f);
            }
        }
        try {
            return new Interface(name, Optional.ofNullable(mac), mtu, Optional.ofNullable(sandbox),
                    Optional.ofNullable(socketPath), Optional.ofNullable(pciID), extra);
        } catch (IllegalArgumentException e) {
            throw in.invalid(e);
        }
    }

    static List<Interface> readList(JsonIn in, String field) throws IOException {
        List<Interface> out = new ArrayList<>();
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
        g.writeStringField("name", name);
        Out.string(g, "mac", mac);
        Out.nonZero(g, "mtu", mtu);
        Out.string(g, "sandbox", sandbox);
        Out.string(g, "socketPath", socketPath);
        Out.string(g, "pciID", pciID);
        JsonValues.writeFields(g, extra);
        g.writeEndObject();
    }
}
