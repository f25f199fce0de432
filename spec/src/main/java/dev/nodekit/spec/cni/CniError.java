package dev.nodekit.spec.cni;

import java.io.IOException;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

/**
 * The error body a plugin prints on stdout (non-zero exit):
 * {@code {"cniVersion":"1.1.0","code":7,"msg":"Invalid Configuration","details":"..."}}.
 * Codes 0-99 are reserved for the spec (constants below), 100 and above are plugin-specific.
 *
 * <p>Decoding is lenient the way a runtime must be: {@code cniVersion} is optional (Go plugins up
 * to 1.0 do not print it), a missing {@code msg} reads as empty, unknown keys are ignored.
 *
 * @param cniVersion the version of the request the error answers, when known
 * @param code       the error code, {@code >= 0}
 * @param msg        a short message
 * @param details    a longer explanation, omitted from the JSON when absent
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record CniError(Optional<CniVersion> cniVersion, int code, String msg, Optional<String> details)
        implements CniJson {

    /** Go's {@code ErrUnknown}: no code was given. */
    public static final int UNKNOWN = 0;
    /** Incompatible CNI version. */
    public static final int INCOMPATIBLE_CNI_VERSION = 1;
    /** Unsupported field in network configuration; the message names the key and value. */
    public static final int UNSUPPORTED_FIELD = 2;
    /** Container unknown or does not exist; the runtime need not DEL it. */
    public static final int UNKNOWN_CONTAINER = 3;
    /** Invalid or missing environment variables; the message names them. */
    public static final int INVALID_ENVIRONMENT_VARIABLES = 4;
    /** I/O failure, e.g. reading stdin. */
    public static final int IO_FAILURE = 5;
    /** Failed to decode content (JSON, a version string). */
    public static final int DECODING_FAILURE = 6;
    /** Invalid network configuration. */
    public static final int INVALID_NETWORK_CONFIG = 7;
    /** Go skel only: CNI_NETNS is the plugin's own network namespace. */
    public static final int INVALID_NETNS = 8;
    /** Try again later: the only code a runtime may retry on. */
    public static final int TRY_AGAIN_LATER = 11;
    /** STATUS: the plugin is not available, it cannot serve ADD requests. */
    public static final int PLUGIN_NOT_AVAILABLE = 50;
    /** STATUS: not available, and existing containers may have limited connectivity. */
    public static final int PLUGIN_NOT_AVAILABLE_LIMITED_CONNECTIVITY = 51;
    /** The first plugin-specific code. */
    public static final int FIRST_PLUGIN_SPECIFIC = 100;
    /** Go skel only: any error that is not a typed CNI error. */
    public static final int INTERNAL = 999;

    public CniError {
        cniVersion = Check.optional(cniVersion);
        if (code < 0) {
            throw Check.invalid("code", code + " is negative");
        }
        Check.required(msg, "msg");
        details = Check.optional(details);
    }

    /** An error without details, labelled with {@code version}. */
    public static CniError of(CniVersion version, int code, String msg) {
        return new CniError(Optional.ofNullable(version), code, msg, Optional.empty());
    }

    /** Whether the code is one the spec reserves (0-99) rather than a plugin-specific one. */
    public boolean isWellKnown() {
        return code < FIRST_PLUGIN_SPECIFIC;
    }

    /** The exception form, to rethrow an error read from a delegate plugin. */
    public CniException toException() {
        return new CniException(code, msg, details.orElse(null));
    }

    /** Decodes an error body. */
    public static CniError parse(String json) throws CniException {
        return finish(Json.open(json));
    }

    /** Decodes an error body (UTF-8/16/32 detected). */
    public static CniError parse(byte[] json) throws CniException {
        return finish(Json.open(json));
    }

    private static CniError finish(JsonIn in) throws CniException {
        try {
            CniError e = read(in);
            Json.finish(in);
            return e;
        } catch (DecodeFailure | IOException e) {
            throw Json.failure(e, false);
        }
    }

    static CniError read(JsonIn in) throws IOException {
        in.beginObject("an error object");
        CniVersion version = null;
        Integer code = null;
        String msg = null;
        String details = null;
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "cniVersion":
                    version = in.version(f);
                    break;
                case "code":
                    if (!in.isNull()) {
                        code = in.optionalInt(f).getAsInt();
                    }
                    break;
                case "msg":
                    msg = in.string(f);
                    break;
                case "details":
                    details = in.string(f);
                    break;
                default:
                    in.skip();
            }
        }
        if (code == null) {
            throw in.invalid("code", "required");
        }
        try {
            return new CniError(Optional.ofNullable(version), code, msg == null ? "" : msg,
                    Optional.ofNullable(details));
        } catch (IllegalArgumentException e) {
            throw in.invalid(e);
        }
    }

    @Override
    public void writeJson(JsonGenerator g) throws IOException {
        g.writeStartObject();
        if (cniVersion.isPresent()) {
            g.writeStringField("cniVersion", cniVersion.get().toString());
        }
        g.writeNumberField("code", code);
        g.writeStringField("msg", msg);
        if (details.isPresent()) {
            g.writeStringField("details", details.get());
        }
        g.writeEndObject();
    }
}
