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
 * A network configuration list (a {@code .conflist} file): one network, its plugins in ADD order.
 *
 * <p>Decoding follows libcni's {@code NetworkConfFromBytes}: the three flags also accept the strings
 * {@code "true"}/{@code "false"} (any case) and are written back as booleans; {@code plugins} may be
 * absent (more plugins can come from {@code <confdir>/<name>/*.conf}) unless
 * {@code loadOnlyInlinedPlugins}, but an empty {@code plugins} array is an error.
 *
 * @param cniVersion             the spec version of the list
 * @param cniVersions            all versions the list is valid for (1.1.0); see {@link #effectiveVersion()}
 * @param name                   network name: a letter or digit, then letters, digits, {@code _ . -}
 * @param disableCheck           the runtime must not call CHECK
 * @param disableGC              the runtime must not call GC
 * @param loadOnlyInlinedPlugins the runtime must not load plugins from other files
 * @param plugins                plugin configurations, in ADD order
 * @param extra                  unknown keys, kept as read
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record NetConfList(Optional<CniVersion> cniVersion, List<CniVersion> cniVersions, String name,
        boolean disableCheck, boolean disableGC, boolean loadOnlyInlinedPlugins, List<NetConf> plugins,
        Map<String, Object> extra) implements CniJson {

    private static final String[] KNOWN = {"cniVersion", "cniVersions", "name", "disableCheck", "disableGC",
        "loadOnlyInlinedPlugins", "plugins"};

    public NetConfList {
        cniVersion = Check.optional(cniVersion);
        cniVersions = Check.list(cniVersions, "cniVersions");
        Check.required(name, "name");
        NetConf.checkNetworkName(name, "name");
        plugins = Check.list(plugins, "plugins");
        if (loadOnlyInlinedPlugins && plugins.isEmpty()) {
            throw Check.invalid("plugins", "required when loadOnlyInlinedPlugins is true");
        }
        extra = Check.extra(extra, KNOWN);
    }

    /** A list with one version, no flags and the given plugins. */
    public static NetConfList of(CniVersion cniVersion, String name, List<NetConf> plugins) {
        return new NetConfList(Optional.of(cniVersion), List.of(), name, false, false, false, plugins, Map.of());
    }

    /**
     * The version the runtime uses for this list, libcni's rule: without {@code cniVersions},
     * {@code cniVersion} (0.1.0 when absent); with it, the highest of {@code cniVersions} and
     * {@code cniVersion} not above {@link CniVersion#LATEST}, falling back to {@code cniVersion}.
     */
    public CniVersion effectiveVersion() {
        if (cniVersions.isEmpty()) {
            return cniVersion.orElse(CniVersion.DEFAULT);
        }
        List<CniVersion> all = new ArrayList<>(cniVersions);
        if (cniVersion.isPresent()) {
            all.add(cniVersion.get());
        }
        return CniVersion.highest(all, CniVersion.LATEST).orElse(cniVersion.orElse(CniVersion.DEFAULT));
    }

    /**
     * The configuration the runtime sends {@code plugins[index]}, before capability arguments and
     * {@code prevResult}: see {@link NetConf#forNetwork}.
     */
    public NetConf pluginConfig(int index) {
        return plugins.get(index).forNetwork(effectiveVersion(), name);
    }

    // ------------------------------------------------------------------ decoding

    /**
     * Decodes a configuration list.
     *
     * @throws CniException code 6 (bad JSON, wrong types) or 7 (invalid value); the message names the
     *                      field, e.g. {@code plugins[1].ipam.ranges[0][0].subnet: ...}
     */
    public static NetConfList parse(String json) throws CniException {
        return finish(Json.open(json));
    }

    /** {@link #parse(String)} for bytes, e.g. a whole file (UTF-8/16/32 detected). */
    public static NetConfList parse(byte[] json) throws CniException {
        return finish(Json.open(json));
    }

    private static NetConfList finish(JsonIn in) throws CniException {
        try {
            NetConfList c = read(in);
            Json.finish(in);
            return c;
        } catch (DecodeFailure | IOException e) {
            throw Json.failure(e, true);
        }
    }

    static NetConfList read(JsonIn in) throws IOException {
        in.beginObject("a network configuration list object");
        CniVersion version = null;
        List<CniVersion> versions = null;
        String name = null;
        boolean disableCheck = false;
        boolean disableGC = false;
        boolean inlinedOnly = false;
        List<NetConf> plugins = null;
        Map<String, Object> extra = null;
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "cniVersion":
                    version = in.version(f);
                    break;
                case "cniVersions":
                    versions = new ArrayList<>();
                    if (in.beginArray(f)) {
                        for (int i = 0; in.nextElement(); i++) {
                            in.enter(i);
                            versions.add(CniVersion.read(in));
                            in.leave();
                        }
                        in.leave();
                    }
                    break;
                case "name":
                    name = in.string(f);
                    break;
                case "disableCheck":
                    disableCheck = in.lenientBool(f);
                    break;
                case "disableGC":
                    disableGC = in.lenientBool(f);
                    break;
                case "loadOnlyInlinedPlugins":
                    inlinedOnly = in.lenientBool(f);
                    break;
                case "plugins":
                    plugins = new ArrayList<>();
                    if (in.beginArray(f)) {
                        for (int i = 0; in.nextElement(); i++) {
                            in.enter(i);
                            plugins.add(NetConf.read(in));
                            in.leave();
                        }
                        in.leave();
                        if (plugins.isEmpty()) {
                            throw in.invalid(f, "no plugins in list");
                        }
                    }
                    break;
                default:
                    extra = in.extra(extra, f);
            }
        }
        if (name == null) {
            throw in.invalid("name", "required");
        }
        try {
            return new NetConfList(Optional.ofNullable(version), versions, name, disableCheck, disableGC, inlinedOnly,
                    plugins, extra);
        } catch (IllegalArgumentException e) {
            throw in.invalid(e);
        }
    }

    // ------------------------------------------------------------------ encoding

    @Override
    public void writeJson(JsonGenerator g) throws IOException {
        g.writeStartObject();
        if (cniVersion.isPresent()) {
            g.writeStringField("cniVersion", cniVersion.get().toString());
        }
        if (!cniVersions.isEmpty()) {
            g.writeArrayFieldStart("cniVersions");
            for (CniVersion v : cniVersions) {
                g.writeString(v.toString());
            }
            g.writeEndArray();
        }
        g.writeStringField("name", name);
        if (disableCheck) {
            g.writeBooleanField("disableCheck", true);
        }
        if (disableGC) {
            g.writeBooleanField("disableGC", true);
        }
        if (loadOnlyInlinedPlugins) {
            g.writeBooleanField("loadOnlyInlinedPlugins", true);
        }
        Out.values(g, "plugins", plugins);
        JsonValues.writeFields(g, extra);
        g.writeEndObject();
    }
}
