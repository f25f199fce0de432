package dev.nodekit.csi.rbd.ceph;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One page of an object's omap, in key order.
 *
 * @param entries key to value, in ascending key order; the arrays belong to the caller
 * @param more    true when entries after the last key exist: ask again with it as {@code startAfter}
 */
public record OmapPage(Map<String, byte[]> entries, boolean more) {
    /** Copies {@code entries}, keeping its order. */
    public OmapPage {
        Objects.requireNonNull(entries, "entries");
        entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    /** The last key of this page (for the next {@code startAfter}), or empty text for an empty page. */
    public String lastKey() {
        String last = "";
        for (String k : entries.keySet()) {
            last = k;
        }
        return last;
    }

    /** The values decoded as UTF-8. */
    public Map<String, String> strings() {
        Map<String, String> out = new LinkedHashMap<>();
        entries.forEach((k, v) -> out.put(k, new String(v, StandardCharsets.UTF_8)));
        return Collections.unmodifiableMap(out);
    }
}
