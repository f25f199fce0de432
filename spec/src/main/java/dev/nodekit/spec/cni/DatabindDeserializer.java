package dev.nodekit.spec.cni;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.BeanProperty;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.deser.ContextualDeserializer;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;

/**
 * jackson-databind adapter named by {@code @JsonDeserialize} on every wire type: one class for all of
 * them, bound to the target type in {@link #createContextual}, which then runs the type's streaming
 * reader on databind's parser. A decoding failure becomes a {@link MismatchedInputException} carrying
 * the same field-naming message as {@link CniException}.
 */
final class DatabindDeserializer extends StdDeserializer<Object> implements ContextualDeserializer {
    private static final long serialVersionUID = 1L;

    private final Class<?> target;

    DatabindDeserializer() {
        this(null);
    }

    private DatabindDeserializer(Class<?> target) {
        super(target == null ? Object.class : target);
        this.target = target;
    }

    @Override
    public JsonDeserializer<?> createContextual(DeserializationContext ctxt, BeanProperty property) {
        JavaType type = ctxt.getContextualType();
        if (type == null && property != null) {
            type = property.getType();
        }
        if (type == null) {
            return this;
        }
        // A property typed Optional<NetConf> or List<NetConf> reaches here with the content type.
        Class<?> raw = type.getRawClass();
        return raw == target ? this : new DatabindDeserializer(raw);
    }

    @Override
    public Object deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        if (target == null) {
            return ctxt.handleUnexpectedToken(Object.class, p);
        }
        JsonIn in = new JsonIn(p);
        try {
            return read(in);
        } catch (DecodeFailure e) {
            MismatchedInputException ex = MismatchedInputException.from(p, target,
                    target.getSimpleName() + ": " + e.getMessage());
            ex.initCause(e);
            throw ex;
        }
    }

    private Object read(JsonIn in) throws IOException {
        if (target == NetConf.class) {
            return NetConf.read(in);
        } else if (target == NetConfList.class) {
            return NetConfList.read(in);
        } else if (target == Result.class) {
            return Result.read(in, null);
        } else if (target == CniError.class) {
            return CniError.read(in);
        } else if (target == VersionInfo.class) {
            return VersionInfo.read(in);
        } else if (target == CniVersion.class) {
            return CniVersion.read(in);
        } else if (target == IpamConfig.class) {
            return IpamConfig.read(in);
        } else if (target == IpRange.class) {
            return IpRange.read(in);
        } else if (target == RuntimeConfig.class) {
            return RuntimeConfig.read(in);
        } else if (target == PortMapping.class) {
            return PortMapping.read(in);
        } else if (target == Bandwidth.class) {
            return Bandwidth.read(in);
        } else if (target == RuntimeDns.class) {
            return RuntimeDns.read(in);
        } else if (target == Dns.class) {
            return Dns.read(in);
        } else if (target == Interface.class) {
            return Interface.read(in);
        } else if (target == IpConfig.class) {
            return IpConfig.read(in);
        } else if (target == Route.class) {
            return Route.read(in);
        } else if (target == GcAttachment.class) {
            return GcAttachment.read(in);
        }
        throw new IllegalStateException("no CNI decoder for " + target.getName());
    }
}
