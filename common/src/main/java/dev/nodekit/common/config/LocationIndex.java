package dev.nodekit.common.config;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

/**
 * Where each value of a document starts, keyed by JSON pointer ({@code /interceptors/1/timeout});
 * for an object member, where its key starts. Built by a streaming pass before binding, because a
 * binding error is raised where the parser happens to be (for a record, the end of its object),
 * not where the offending field is written.
 */
final class LocationIndex {
    private final Map<String, JsonLocation> locations = new HashMap<>();

    /** Indexes the first value of {@code p}; returns false when the document is empty. */
    boolean build(JsonParser p) throws IOException {
        JsonToken t = p.nextToken();
        if (t == null) {
            return false;
        }
        locations.put("", p.currentTokenLocation());
        walk(p, "");
        return true;
    }

    private void walk(JsonParser p, String path) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String child = path + "/" + escape(p.currentName());
                locations.putIfAbsent(child, p.currentTokenLocation());
                p.nextToken();
                walk(p, child);
            }
        } else if (t == JsonToken.START_ARRAY) {
            int i = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
                String child = path + "/" + i++;
                locations.putIfAbsent(child, p.currentTokenLocation());
                walk(p, child);
            }
        }
    }

    /** The location of {@code pointer}, or null. */
    JsonLocation get(String pointer) {
        return locations.get(pointer);
    }

    /** True when {@code pointer} names a value present in the document. */
    boolean contains(String pointer) {
        return locations.containsKey(pointer);
    }

    static String escape(String segment) {
        return segment.replace("~", "~0").replace("/", "~1");
    }
}
