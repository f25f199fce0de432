package dev.nodekit.spec.cni;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;

/** Streaming entry points shared by the public {@code parse}/{@code toJson} methods (jackson-core only). */
final class Json {
    private Json() {
    }

    /** Lazily created: loading a record class must not create a factory. */
    private static final class Holder {
        static final JsonFactory FACTORY = new JsonFactory();
    }

    static JsonFactory factory() {
        return Holder.FACTORY;
    }

    /** Opens a parser on a whole document and moves to its first token. */
    static JsonIn open(byte[] json) throws CniException {
        if (json == null) {
            throw new CniException(CniError.DECODING_FAILURE, "no JSON document (null input)");
        }
        try {
            JsonParser p = factory().createParser(json);
            p.nextToken();
            return new JsonIn(p);
        } catch (JsonProcessingException e) {
            throw syntax(e);
        } catch (IOException e) {
            throw new CniException(CniError.IO_FAILURE, "cannot read JSON input: " + e.getMessage(), null, e);
        }
    }

    static JsonIn open(String json) throws CniException {
        if (json == null) {
            throw new CniException(CniError.DECODING_FAILURE, "no JSON document (null input)");
        }
        return open(json.getBytes(StandardCharsets.UTF_8));
    }

    /** Requires the end of input after the top-level value, then closes the parser. */
    static void finish(JsonIn in) throws IOException {
        JsonParser p = in.parser();
        JsonToken t = p.nextToken();
        if (t != null) {
            throw new DecodeFailure(DecodeFailure.SHAPE,
                    "unexpected content after the JSON document at " + location(p), null);
        }
        p.close();
    }

    static CniException syntax(JsonProcessingException e) {
        String msg = e.getOriginalMessage();
        String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                + ", column " + e.getLocation().getColumnNr();
        return new CniException(CniError.DECODING_FAILURE, "invalid JSON" + where + ": " + msg, null, e);
    }

    static CniException failure(Exception e, boolean config) {
        if (e instanceof DecodeFailure) {
            return ((DecodeFailure) e).toCniException(config);
        }
        if (e instanceof JsonProcessingException) {
            return syntax((JsonProcessingException) e);
        }
        return new CniException(CniError.IO_FAILURE, "cannot read JSON input: " + e.getMessage(), null, e);
    }

    private static String location(JsonParser p) {
        return "line " + p.currentLocation().getLineNr() + ", column " + p.currentLocation().getColumnNr();
    }

    /** Compact JSON text of a value. */
    static String write(CniJson value) {
        StringWriter out = new StringWriter(256);
        try (JsonGenerator g = factory().createGenerator(out)) {
            value.writeJson(g);
        } catch (IOException e) {
            // A StringWriter does not fail; a generator only fails on misuse.
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }
}
