package dev.nodekit.spec.cni;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

/**
 * DNS settings, the same shape in a network configuration ({@code dns}) and in a result:
 * {@code {"nameservers":[...],"domain":"...","search":[...],"options":[...]}}. (The runtime's
 * {@code runtimeConfig.dns} capability uses other names; see {@link RuntimeDns}.)
 *
 * @param nameservers name server addresses, in priority order (not validated: some plugins add ports)
 * @param domain      the local domain
 * @param search      search domains, in priority order
 * @param options     resolver options
 * @param extra       unknown keys, kept as read
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record Dns(List<String> nameservers, Optional<String> domain, List<String> search, List<String> options,
        Map<String, Object> extra) implements CniJson {

    private static final String[] KNOWN = {"nameservers", "domain", "search", "options"};

    public Dns {
        nameservers = Check.list(nameservers, "nameservers");
        domain = Check.optional(domain);
        search = Check.list(search, "search");
        options = Check.list(options, "options");
        extra = Check.extra(extra, KNOWN);
    }

    /** Name servers and search domains only. */
    public static Dns of(List<String> nameservers, List<String> search) {
        return new Dns(nameservers, Optional.empty(), search, List.of(), Map.of());
    }

    /** No value set (Go's {@code DNS.IsEmpty}). */
    public boolean isEmpty() {
        return nameservers.isEmpty() && domain.isEmpty() && search.isEmpty() && options.isEmpty() && extra.isEmpty();
    }

    static Dns read(JsonIn in) throws IOException {
        in.beginObject("a dns object");
        List<String> nameservers = null;
        String domain = null;
        List<String> search = null;
        List<String> options = null;
        Map<String, Object> extra = null;
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "nameservers":
                    nameservers = in.stringList(f);
                    break;
                case "domain":
                    domain = in.string(f);
                    break;
                case "search":
                    search = in.stringList(f);
                    break;
                case "options":
                    options = in.stringList(f);
                    break;
                default:
                    extra = in.extra(extra, f);
            }
        }
        try {
            return new Dns(nameservers, Optional.ofNullable(domain), search, options, extra);
        } catch (IllegalArgumentException e) {
            throw in.invalid(e);
        }
    }

    @Override
    public void writeJson(JsonGenerator g) throws IOException {
        g.writeStartObject();
        Out.strings(g, "nameservers", nameservers);
        if (domain.isPresent()) {
            g.writeStringField("domain", domain.get());
        }
        Out.strings(g, "search", search);
        Out.strings(g, "options", options);
        JsonValues.writeFields(g, extra);
        g.writeEndObject();
    }
}
