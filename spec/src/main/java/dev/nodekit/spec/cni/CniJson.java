package dev.nodekit.spec.cni;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonGenerator;

/**
 * A CNI wire value that writes itself with jackson-core alone. Every record of this package
 * implements it, so a caller can stream several values into one {@link JsonGenerator} (a plugin
 * writing its result to stdout) or take the text with {@link #toJson()}; jackson-databind's
 * {@code ObjectMapper} reaches the same code through the {@code @JsonSerialize} annotation.
 */
public interface CniJson {

    /** Writes this value as one JSON value (object or string) at the generator's current position. */
    void writeJson(JsonGenerator generator) throws IOException;

    /** This value as compact JSON text. */
    default String toJson() {
        return Json.write(this);
    }
}
