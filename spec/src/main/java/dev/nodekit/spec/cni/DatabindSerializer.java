package dev.nodekit.spec.cni;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;

/**
 * jackson-databind adapter named by {@code @JsonSerialize} on every wire type: delegates to the
 * type's own streaming {@link CniJson#writeJson}. Loaded only when an ObjectMapper serializes one.
 */
final class DatabindSerializer extends StdSerializer<CniJson> {
    private static final long serialVersionUID = 1L;

    DatabindSerializer() {
        super(CniJson.class);
    }

    @Override
    public void serialize(CniJson value, JsonGenerator gen, SerializerProvider provider) throws IOException {
        value.writeJson(gen);
    }
}
