package dev.nodekit.spec.cni;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

/**
 * The {@code dns} capability a runtime passes in {@code runtimeConfig} (Kubernetes pod DNS):
 * {@code {"servers":[...],"searches":[...],"options":[...]}}. The names differ from the network
 * configuration's and the result's {@link Dns}.
 *
 * @param servers  name servers
 * @param searches search domains
 * @param options  resolver options
 * @param extra    unknown keys, kept as read
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record RuntimeDns(List<String> servers, List<String> searches, List<String> options, Map<String, Object> extra)
        implements CniJson {

    private static final String[] KNOWN = {"servers", "searches", "options"};

    public RuntimeDns {
        servers = Check.list(servers, "servers");
        searches = Check.list(searches, "searches");
        options = Check.list(options, "options");
        extra = Check.extra(extra, KNOWN);
    }

    static RuntimeDns read(JsonIn in) throws IOException {
        in.beginObject("a dns object");
        List<String> servers = null;
        List<String> searches = null;
        List<String> options = null;
        Map<String, Object> extra = null;
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "servers":
                    servers = in.stringList(f);
                    break;
                case "searches":
                    searches = in.stringList(f);
                    break;
                case "options":
                    options = in.stringList(f);
                    break;
                default:
                    extra = in.extra(extra, f);
            }
        }
        try {
            return new RuntimeDns(servers, searches, options, extra);
        } catch (IllegalArgumentException e) {
            throw in.invalid(e);
        }
    }

    @Override
    public void writeJson(JsonGenerator g) throws IOException {
        g.writeStartObject();
        Out.strings(g, "servers", servers);
        Out.strings(g, "searches", searches);
        Out.strings(g, "options", options);
        JsonValues.writeFields(g, extra);
        g.writeEndObject();
    }
}
