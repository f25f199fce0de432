package dev.nodekit.spec.cni;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

/**
 * One plugin's network configuration: what a plugin reads on stdin (the runtime has inserted
 * {@code cniVersion}, {@code name}, {@code runtimeConfig}, {@code prevResult}, and for GC
 * {@code cni.dev/valid-attachments}), and the shape of each element of a configuration list's
 * {@code plugins} (where {@code cniVersion} and {@code name} are usually absent and
 * {@code capabilities} present).
 *
 * <p>Every key nodekit does not model, above all the plugin's own keys ({@code bridge},
 * {@code isGateway}, {@code mtu}...), is kept in {@link #extra()} as a natural JSON value (see the
 * package documentation) and written back, so a runtime or a delegating plugin passes the
 * configuration on unchanged. Known keys are written in canonical form: empty lists and maps are left
 * out, as Go does with {@code omitempty}.
 *
 * @param cniVersion    spec version of this configuration; absent means 0.1.0 ({@link #version()})
 * @param name          network name: a letter or digit, then letters, digits, {@code _ . -}
 * @param type          the plugin binary name (no path separators)
 * @param capabilities  capabilities the plugin accepts in {@code runtimeConfig} (conflist elements)
 * @param ipam          the IPAM section, when present ({@code {}} is present and empty)
 * @param dns           DNS settings for the network
 * @param runtimeConfig capability arguments inserted by the runtime
 * @param args          {@code args}: runtime-provided optional metadata ({@code args.cni.ips}, labels...)
 * @param prevResult    the previous plugin's result (chained ADD), or the final ADD result (DEL, CHECK)
 * @param ipMasq        whether to set up IP masquerade (bridge, ptp...)
 * @param extra         every other key, kept as read
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record NetConf(Optional<CniVersion> cniVersion, Optional<String> name, String type,
        Map<String, Boolean> capabilities, Optional<IpamConfig> ipam, Optional<Dns> dns,
        Optional<RuntimeConfig> runtimeConfig, Map<String, Object> args, Optional<Result> prevResult,
        Optional<Boolean> ipMasq, Map<String, Object> extra) implements CniJson {

    private static final String[] KNOWN = {"cniVersion", "name", "type", "capabilities", "ipam", "dns",
        "runtimeConfig", "args", "prevResult", "ipMasq"};
    private static final String[] ATTACHMENT_KEYS = {GcAttachment.VALID_ATTACHMENTS_KEY,
        GcAttachment.LEGACY_ATTACHMENTS_KEY};

    public NetConf {
        cniVersion = Check.optional(cniVersion);
        name = Check.optional(name);
        if (name.isPresent()) {
            checkNetworkName(name.get(), "name");
        }
        if (type == null || type.isEmpty()) {
            throw Check.invalid("type", "required (the plugin binary name)");
        }
        if (type.indexOf('/') >= 0 || type.indexOf('\\') >= 0) {
            throw Check.invalid("type", "'" + type + "' must not contain a path separator");
        }
        capabilities = Check.map(capabilities, "capabilities");
        ipam = Check.optional(ipam);
        dns = Check.optional(dns);
        runtimeConfig = Check.optional(runtimeConfig);
        args = args == null || args.isEmpty() ? Map.of() : JsonValues.copyObject(args, "args");
        prevResult = Check.optional(prevResult);
        ipMasq = Check.optional(ipMasq);
        extra = Check.extra(extra, KNOWN);
        for (String key : ATTACHMENT_KEYS) {
            Object v = extra.get(key);
            if (v != null) {
                GcAttachment.fromNatural(v, key);
            }
        }
    }

    /** A minimal configuration: version, network name and plugin type. */
    public static NetConf of(CniVersion cniVersion, String name, String type) {
        return new NetConf(Optional.of(cniVersion), Optional.of(name), type, Map.of(), Optional.empty(),
                Optional.empty(), Optional.empty(), Map.of(), Optional.empty(), Optional.empty(), Map.of());
    }

    /** Checks a network name: non-empty, a letter or digit first, then letters, digits, {@code _ . -}. */
    static void checkNetworkName(String name, String field) {
        boolean ok = !name.isEmpty();
        for (int i = 0; ok && i < name.length(); i++) {
            char c = name.charAt(i);
            boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            ok = alnum || (i > 0 && (c == '_' || c == '.' || c == '-'));
        }
        if (!ok) {
            throw Check.invalid(field, "'" + name + "' is not a valid network name (a letter or digit, then letters, "
                    + "digits, '_', '.', '-')");
        }
    }

    /** The spec version of this configuration: {@code cniVersion}, or 0.1.0 when absent (libcni's rule). */
    public CniVersion version() {
        return cniVersion.orElse(CniVersion.DEFAULT);
    }

    /** Whether the plugin declared {@code capability} with {@code true}. */
    public boolean hasCapability(String capability) {
        Boolean b = capabilities.get(capability);
        return b != null && b;
    }

    /** {@code args.cni}: the conventional namespace of {@link #args()} (ips, labels), empty when absent. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> argsCni() {
        Object cni = args.get("cni");
        return cni instanceof Map ? (Map<String, Object>) cni : Map.of();
    }

    /**
     * The valid attachments of a GC request: {@code cni.dev/valid-attachments}, else the older
     * {@code cni.dev/attachments}; empty when neither key is present (a JSON {@code null} reads as an
     * empty list, as in Go).
     */
    public Optional<List<GcAttachment>> gcAttachments() {
        for (String key : ATTACHMENT_KEYS) {
            if (extra.containsKey(key)) {
                Object v = extra.get(key);
                return Optional.of(v == null ? List.of() : GcAttachment.fromNatural(v, key));
            }
        }
        return Optional.empty();
    }

    /** This configuration as a GC request: both attachment keys set to {@code attachments}, as libcni does. */
    public NetConf withGcAttachments(List<GcAttachment> attachments) {
        Map<String, Object> x = new LinkedHashMap<>(extra);
        List<Object> natural = GcAttachment.toNatural(Check.list(attachments, "attachments"));
        x.put(GcAttachment.VALID_ATTACHMENTS_KEY, natural);
        x.put(GcAttachment.LEGACY_ATTACHMENTS_KEY, natural);
        return new NetConf(cniVersion, name, type, capabilities, ipam, dns, runtimeConfig, args, prevResult, ipMasq, x);
    }

    /** This configuration with {@code prevResult} set (or removed, with {@code null}). */
    public NetConf withPrevResult(Result prevResult) {
        return new NetConf(cniVersion, name, type, capabilities, ipam, dns, runtimeConfig, args,
                Optional.ofNullable(prevResult), ipMasq, extra);
    }

    /** This configuration with {@code runtimeConfig} set (or removed, with {@code null}). */
    public NetConf withRuntimeConfig(RuntimeConfig runtimeConfig) {
        return new NetConf(cniVersion, name, type, capabilities, ipam, dns, Optional.ofNullable(runtimeConfig), args,
                prevResult, ipMasq, extra);
    }

    /**
     * The configuration the runtime sends this plugin of a list: {@code cniVersion} and {@code name}
     * set to the list's, {@code capabilities} removed (libcni's {@code buildOneConfig}, before it adds
     * {@code runtimeConfig} and {@code prevResult}).
     */
    public NetConf forNetwork(CniVersion version, String networkName) {
        return new NetConf(Optional.of(version), Optional.of(networkName), type, Map.of(), ipam, dns, runtimeConfig,
                args, prevResult, ipMasq, extra);
    }

    // ------------------------------------------------------------------ decoding

    /**
     * Decodes a plugin configuration.
     *
     * @throws CniException code 6 (bad JSON, wrong JSON types), 7 (invalid value, e.g. a bad CIDR or a
     *                      missing {@code type}) or 1 (a {@code prevResult} of an unknown version); the
     *                      message names the field
     */
    public static NetConf parse(String json) throws CniException {
        return finish(Json.open(json));
    }

    /** {@link #parse(String)} for bytes, e.g. all of stdin (UTF-8/16/32 detected). */
    public static NetConf parse(byte[] json) throws CniException {
        return finish(Json.open(json));
    }

    private static NetConf finish(JsonIn in) throws CniException {
        try {
            NetConf c = read(in);
            Json.finish(in);
            return c;
        } catch (DecodeFailure | IOException e) {
            throw Json.failure(e, true);
        }
    }

    static NetConf read(JsonIn in) throws IOException {
        in.beginObject("a network configuration object");
        CniVersion version = null;
        String name = null;
        String type = null;
        Map<String, Boolean> capabilities = null;
        IpamConfig ipam = null;
        Dns dns = null;
        RuntimeConfig runtimeConfig = null;
        Map<String, Object> args = null;
        Result.Parts prev = null;
        Boolean ipMasq = null;
        Map<String, Object> extra = null;
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "cniVersion":
                    version = in.version(f);
                    break;
                case "name":
                    name = in.string(f);
                    break;
                case "type":
                    type = in.string(f);
                    break;
                case "capabilities":
                    capabilities = in.boolMap(f);
                    break;
                case "ipam":
                    if (!in.isNull()) {
                        in.enter(f);
                        ipam = IpamConfig.read(in);
                        in.leave();
                    }
                    break;
                case "dns":
                    if (!in.isNull()) {
                        in.enter(f);
                        dns = Dns.read(in);
                        in.leave();
                    }
                    break;
                case "runtimeConfig":
                    if (!in.isNull()) {
                        in.enter(f);
                        runtimeConfig = RuntimeConfig.read(in);
                        in.leave();
                    }
                    break;
                case "args":
                    args = readArgs(in, f);
                    break;
                case "prevResult":
                    if (!in.isNull()) {
                        in.enter(f);
                        prev = Result.readParts(in);
                        in.leave();
                    }
                    break;
                case "ipMasq":
                    ipMasq = in.bool(f);
                    break;
                default:
                    extra = in.extra(extra, f);
            }
        }
        Result prevResult = null;
        if (prev != null) {
            // libcni reads a prevResult without cniVersion in the version of its configuration.
            in.enter("prevResult");
            prevResult = Result.build(in, prev, version == null ? CniVersion.DEFAULT : version);
            in.leave();
        }
        if (type == null) {
            throw in.invalid("type", "required (the plugin binary name)");
        }
        try {
            return new NetConf(Optional.ofNullable(version), Optional.ofNullable(name), type, capabilities,
                    Optional.ofNullable(ipam), Optional.ofNullable(dns), Optional.ofNullable(runtimeConfig), args,
                    Optional.ofNullable(prevResult), Optional.ofNullable(ipMasq), extra);
        } catch (IllegalArgumentException e) {
            throw in.invalid(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> readArgs(JsonIn in, String field) throws IOException {
        if (in.isNull()) {
            return null;
        }
        if (in.token() != JsonToken.START_OBJECT) {
            throw in.mismatch(field, "an object");
        }
        return (Map<String, Object>) in.value();
    }

    // ------------------------------------------------------------------ encoding

    @Override
    public void writeJson(JsonGenerator g) throws IOException {
        g.writeStartObject();
        if (cniVersion.isPresent()) {
            g.writeStringField("cniVersion", cniVersion.get().toString());
        }
        Out.string(g, "name", name);
        g.writeStringField("type", type);
        if (!capabilities.isEmpty()) {
            g.writeObjectFieldStart("capabilities");
            for (Map.Entry<String, Boolean> e : capabilities.entrySet()) {
                g.writeBooleanField(e.getKey(), e.getValue());
            }
            g.writeEndObject();
        }
        if (ipam.isPresent()) {
            g.writeFieldName("ipam");
            ipam.get().writeJson(g);
        }
        if (dns.isPresent()) {
            g.writeFieldName("dns");
            dns.get().writeJson(g);
        }
        if (runtimeConfig.isPresent()) {
            g.writeFieldName("runtimeConfig");
            runtimeConfig.get().writeJson(g);
        }
        if (!args.isEmpty()) {
            g.writeFieldName("args");
            JsonValues.write(g, args);
        }
        if (prevResult.isPresent()) {
            g.writeFieldName("prevResult");
            prevResult.get().writeJson(g);
        }
        if (ipMasq.isPresent()) {
            g.writeBooleanField("ipMasq", ipMasq.get());
        }
        JsonValues.writeFields(g, extra);
        g.writeEndObject();
    }
}
