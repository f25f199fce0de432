package dev.nodekit.cni.api;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;

/**
 * {@code CNI_ARGS}: {@code K=V} pairs separated by {@code ;}, e.g. what Kubernetes runtimes send:
 * {@code IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=...}.
 *
 * <p>Unlike Go's {@code types.LoadArgs}, keys a plugin does not know are always ignored (as if
 * {@code IgnoreUnknown=1} were set, which every Kubernetes runtime sends anyway); a pair without
 * {@code =} is an error, as in Go. Empty pairs (a trailing {@code ;}) are skipped.
 *
 * @param pairs the pairs in order; a repeated key keeps its last value
 */
public record CniArgs(Map<String, String> pairs) {

    /** No arguments. */
    public static final CniArgs EMPTY = new CniArgs(Map.of());

    public CniArgs {
        pairs = pairs == null || pairs.isEmpty() ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(pairs));
    }

    /**
     * Parses the text of {@code CNI_ARGS} (null or empty: no arguments).
     *
     * @throws CniException code 4 naming the first pair without {@code =}
     */
    public static CniArgs parse(String text) throws CniException {
        if (text == null || text.isEmpty()) {
            return EMPTY;
        }
        Map<String, String> m = new LinkedHashMap<>();
        int start = 0;
        while (start <= text.length()) {
            int end = text.indexOf(';', start);
            if (end < 0) {
                end = text.length();
            }
            String pair = text.substring(start, end);
            if (!pair.isEmpty()) {
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new CniException(CniError.INVALID_ENVIRONMENT_VARIABLES, "CNI_ARGS: invalid pair '" + pair
                            + "' (expected KEY=VALUE)");
                }
                m.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
            start = end + 1;
        }
        return new CniArgs(m);
    }

    /** The value of {@code key}, when present. */
    public Optional<String> get(String key) {
        return Optional.ofNullable(pairs.get(key));
    }

    /** The value of {@code key} when present and not empty. */
    public Optional<String> nonEmpty(String key) {
        String v = pairs.get(key);
        return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v);
    }
}
