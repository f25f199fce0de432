package dev.nodekit.conformance.cni;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The per-plugin network configuration the suite sends (what a runtime builds from a conflist for
 * one plugin): generated bridge-style from a plugin and an IPAM name, or taken from a user's file
 * and adapted so a run touches only what it owns (its bridge, its IPAM data dir).
 */
final class NetConfs {
    static final ObjectMapper JSON = new ObjectMapper();

    private NetConfs() {
    }

    /**
     * {@code {"cniVersion":…, "name", "type": plugin, "bridge", "isGateway": true,
     * "ipam": {"type": ipam, "ranges": [[{"subnet"}]], "dataDir"}}}: the gateway on the bridge (so the
     * pod can reach it), no masquerading (no iptables rules to leak).
     */
    static ObjectNode generated(String plugin, String ipam, String name, IpCidr subnet) {
        ObjectNode c = JSON.createObjectNode();
        c.put("cniVersion", CniVersions.KNOWN.get(CniVersions.KNOWN.size() - 1));
        c.put("name", name);
        c.put("type", plugin);
        c.put("bridge", "placeholder");
        c.put("isGateway", true);
        ObjectNode i = c.putObject("ipam");
        i.put("type", ipam);
        ArrayNode set = i.putArray("ranges").addArray();
        set.addObject().put("subnet", subnet.network().toString());
        i.put("dataDir", "placeholder");
        return c;
    }

    /**
     * Reads a user's {@code .conf}/{@code .json} (one plugin) or {@code .conflist} (exactly one
     * plugin, whose object gets the list's {@code name}). The plugin object must have {@code type}
     * and the network a {@code name} usable as a directory name.
     */
    static ObjectNode fromFile(String text, String what) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IOException(what + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(what + ": expected a JSON object");
        }
        ObjectNode plugin;
        if (root.has("plugins")) {
            JsonNode plugins = root.get("plugins");
            if (!plugins.isArray() || plugins.size() != 1 || !plugins.get(0).isObject()) {
                throw new IOException(what + ": the CNI suite runs one plugin; give a conflist with exactly one "
                        + "plugin object (this one has " + (plugins.isArray() ? plugins.size() : "no list of") + " plugins)");
            }
            plugin = ((ObjectNode) plugins.get(0)).deepCopy();
            plugin.set("name", root.get("name"));
            plugin.remove("capabilities");
        } else {
            plugin = ((ObjectNode) root).deepCopy();
        }
        String type = plugin.path("type").asText("");
        if (!CniExec.PLUGIN_NAME.matcher(type).matches()) {
            throw new IOException(what + ": \"type\" must name a plugin binary, got '" + type + "'");
        }
        String name = plugin.path("name").asText("");
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
            throw new IOException(what + ": \"name\" must start with a letter or digit followed by letters, digits, "
                    + "'_', '.', '-', got '" + name + "'");
        }
        return plugin;
    }

    /**
     * {@code base} for one spec version inside one sandbox: {@code cniVersion} set (and the 1.1.0
     * list-level {@code cniVersions} dropped), {@code bridge} replaced by the sandbox's bridge when the
     * config has that key, and the IPAM {@code dataDir} pointed into the sandbox for host-local style
     * IPAMs (a {@code dataDir} key, or a type ending in {@code host-local}).
     */
    static ObjectNode forSandbox(ObjectNode base, String version, String bridge, Path dataDir) {
        ObjectNode c = base.deepCopy();
        c.put("cniVersion", version);
        c.remove("cniVersions");
        if (c.has("bridge")) {
            c.put("bridge", bridge);
        }
        if (c.get("ipam") instanceof ObjectNode ipam && usesDataDir(ipam)) {
            ipam.put("dataDir", dataDir.toString());
        }
        return c;
    }

    /** The host-local allocation dir of {@code conf}: {@code <ipam.dataDir>/<name>}, when known. */
    static Optional<Path> ipamDir(ObjectNode conf) {
        JsonNode ipam = conf.get("ipam");
        if (ipam instanceof ObjectNode o && o.hasNonNull("dataDir") && !o.get("dataDir").asText().isEmpty()) {
            return Optional.of(Path.of(o.get("dataDir").asText()).resolve(conf.path("name").asText()));
        }
        return Optional.empty();
    }

    /** The bridge the config names, when it has a {@code bridge} key. */
    static Optional<String> bridge(ObjectNode conf) {
        return conf.hasNonNull("bridge") ? Optional.of(conf.get("bridge").asText()) : Optional.empty();
    }

    /** True when the config delegates to an IPAM (so an ADD result must carry ips). */
    static boolean hasIpam(ObjectNode conf) {
        return conf.get("ipam") instanceof ObjectNode o && !o.path("type").asText("").isEmpty();
    }

    private static boolean usesDataDir(ObjectNode ipam) {
        return ipam.has("dataDir") || ipam.path("type").asText("").endsWith("host-local");
    }
}
