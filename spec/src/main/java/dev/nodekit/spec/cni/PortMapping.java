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
 * One entry of the {@code portMappings} capability (Kubernetes hostPort):
 * {@code {"hostPort":8080,"containerPort":80,"protocol":"tcp","hostIP":"10.0.0.1"}}.
 *
 * @param hostPort      port on the host, 1-65535
 * @param containerPort port in the container, 1-65535
 * @param protocol      {@code tcp}, {@code udp} or {@code sctp} as the runtime spells it (not case-folded)
 * @param hostIP        host address to bind, when not all addresses; an empty string is read as given
 * @param extra         unknown keys, kept as read
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record PortMapping(int hostPort, int containerPort, String protocol, Optional<String> hostIP,
        Map<String, Object> extra) implements CniJson {

    private static final String[] KNOWN = {"hostPort", "containerPort", "protocol", "hostIP"};

    public PortMapping {
        port(hostPort, "hostPort");
        port(containerPort, "containerPort");
        Check.nonEmpty(protocol, "protocol");
        hostIP = Check.optional(hostIP);
        if (hostIP.isPresent() && !hostIP.get().isEmpty()) {
            Check.ip(hostIP.get(), "hostIP");
        }
        extra = Check.extra(extra, KNOWN);
    }

    /** A mapping on all host addresses. */
    public static PortMapping of(int hostPort, int containerPort, String protocol) {
        return new PortMapping(hostPort, containerPort, protocol, Optional.empty(), Map.of());
    }

    private static void port(int port, String field) {
        if (port < 1 || port > 65535) {
            throw Check.invalid(field, port + " is not a port (1-65535)");
        }
    }

    static PortMapping read(JsonIn in) throws IOException {
        in.beginObject("a port mapping object");
        int hostPort = 0;
        int containerPort = 0;
        String protocol = null;
        String hostIP = null;
        Map<String, Object> extra = null;
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "hostPort":
                    hostPort = in.intOrZero(f);
                    break;
                case "containerPort":
                    containerPort = in.intOrZero(f);
                    break;
                case "protocol":
                    protocol = in.string(f);
                    break;
                case "hostIP":
                    hostIP = in.string(f);
                    break;
                default:
                    extra = in.extra(extra, f);
            }
        }
        try {
            return new PortMapping(hostPort, containerPort, protocol, Optional.ofNullable(hostIP), extra);
        } catch (IllegalArgumentException e) {
            throw in.invalid(e);
        }
    }

    static List<PortMapping> readList(JsonIn in, String field) throws IOException {
        List<PortMapping> out = new ArrayList<>();
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
        g.writeNumberField("hostPort", hostPort);
        g.writeNumberField("containerPort", containerPort);
        g.writeStringField("protocol", protocol);
        Out.string(g, "hostIP", hostIP);
        JsonValues.writeFields(g, extra);
        g.writeEndObject();
    }
}
