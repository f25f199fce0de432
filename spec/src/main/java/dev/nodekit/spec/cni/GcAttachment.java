package dev.nodekit.spec.cni;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

/**
 * One still-valid attachment in a GC request: {@code {"containerID":"...","ifname":"eth0"}}. The
 * runtime lists them under {@code cni.dev/valid-attachments} (and, for plugins written against the
 * first 1.1.0 text, under {@code cni.dev/attachments}); see {@link NetConf#gcAttachments()}.
 *
 * @param containerID the container ID of the attachment
 * @param ifname      the interface name inside the container
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record GcAttachment(String containerID, String ifname) implements CniJson {

    /** The key the runtime sets on a GC request. */
    public static final String VALID_ATTACHMENTS_KEY = "cni.dev/valid-attachments";
    /** The key of the first 1.1.0 text; libcni sends both with the same value. */
    public static final String LEGACY_ATTACHMENTS_KEY = "cni.dev/attachments";

    public GcAttachment {
        Check.nonEmpty(containerID, "containerID");
        Check.nonEmpty(ifname, "ifname");
    }

    /** Reads a list from its natural JSON form (an element of {@link NetConf#extra()}). */
    static List<GcAttachment> fromNatural(Object value, String field) {
        if (!(value instanceof List)) {
            throw Check.invalid(field, "expected an array of {containerID, ifname}");
        }
        List<?> list = (List<?>) value;
        List<GcAttachment> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            Object o = list.get(i);
            if (!(o instanceof Map)) {
                throw Check.invalid(field + "[" + i + "]", "expected an object {containerID, ifname}");
            }
            Map<?, ?> m = (Map<?, ?>) o;
            Object id = m.get("containerID");
            Object ifname = m.get("ifname");
            if (!(id instanceof String) || ((String) id).isEmpty()) {
                throw Check.invalid(field + "[" + i + "].containerID", "required (non-empty string)");
            }
            if (!(ifname instanceof String) || ((String) ifname).isEmpty()) {
                throw Check.invalid(field + "[" + i + "].ifname", "required (non-empty string)");
            }
            out.add(new GcAttachment((String) id, (String) ifname));
        }
        return List.copyOf(out);
    }

    /** The natural JSON form of a list, to store in {@link NetConf#extra()}. */
    static List<Object> toNatural(List<GcAttachment> attachments) {
        List<Object> out = new ArrayList<>(attachments.size());
        for (GcAttachment a : attachments) {
            Map<String, Object> m = new LinkedHashMap<>(4);
            m.put("containerID", a.containerID);
            m.put("ifname", a.ifname);
            out.add(m);
        }
        return out;
    }

    static GcAttachment read(JsonIn in) throws IOException {
        in.beginObject("an attachment object");
        String id = null;
        String ifname = null;
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "containerID":
                    id = in.string(f);
                    break;
                case "ifname":
                    ifname = in.string(f);
                    break;
                default:
                    in.skip();
            }
        }
        try {
            return new GcAttachment(id, ifname);
        } catch (IllegalArgumentException e) {
            throw in.invalid(e);
        }
    }

    @Override
    public void writeJson(JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeStringField("containerID", containerID);
        g.writeStringField("ifname", ifname);
        g.writeEndObject();
    }
}
