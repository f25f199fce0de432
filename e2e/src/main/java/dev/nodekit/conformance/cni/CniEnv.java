package dev.nodekit.conformance.cni;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The {@code CNI_*} variables of one plugin call. Only these (and {@code PATH}, added by
 * {@link CniExec}) reach the plugin: runtimes exec plugins with a minimal environment, and a
 * plugin that works in a developer's shell but needs, say, {@code HOME} must fail here.
 *
 * @param vars variable name to value; names must start with {@code CNI_}
 */
public record CniEnv(Map<String, String> vars) {
    public static final String COMMAND = "CNI_COMMAND";
    public static final String CONTAINERID = "CNI_CONTAINERID";
    public static final String NETNS = "CNI_NETNS";
    public static final String IFNAME = "CNI_IFNAME";
    public static final String ARGS = "CNI_ARGS";
    public static final String PATH = "CNI_PATH";

    public CniEnv {
        Objects.requireNonNull(vars, "vars");
        for (var e : vars.entrySet()) {
            String k = e.getKey();
            if (k == null || !k.matches("CNI_[A-Z0-9_]+")) {
                throw new IllegalArgumentException("'" + k + "' is not a CNI_* variable name");
            }
            if (e.getValue() == null || e.getValue().indexOf('\0') >= 0) {
                throw new IllegalArgumentException(k + " has a null or NUL-containing value");
            }
        }
        vars = Map.copyOf(vars);
    }

    /** Only {@code CNI_COMMAND}. */
    public static CniEnv of(String command) {
        return new CniEnv(Map.of(COMMAND, command));
    }

    /** What a runtime sends for ADD, CHECK and DEL of one attachment. */
    public static CniEnv attachment(String command, String containerId, String netns, String ifname, String cniPath) {
        return of(command).with(CONTAINERID, containerId).with(NETNS, netns).with(IFNAME, ifname).with(PATH, cniPath);
    }

    /** This environment with {@code name=value} (replacing an earlier value). */
    public CniEnv with(String name, String value) {
        Map<String, String> m = new LinkedHashMap<>(vars);
        m.put(name, value);
        return new CniEnv(m);
    }

    /** This environment without {@code name}. */
    public CniEnv without(String name) {
        Map<String, String> m = new LinkedHashMap<>(vars);
        m.remove(name);
        return new CniEnv(m);
    }

    /** The value of {@code name}, or null. */
    public String get(String name) {
        return vars.get(name);
    }

    @Override
    public String toString() {
        return new TreeMap<>(vars).toString();
    }
}
