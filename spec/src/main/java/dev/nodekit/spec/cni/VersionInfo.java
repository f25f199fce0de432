package dev.nodekit.spec.cni;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

/**
 * The output of the VERSION command: {@code {"cniVersion":"1.1.0","supportedVersions":["0.1.0",...]}}.
 *
 * <p>Decoding follows libcni: an answer without {@code supportedVersions} is accepted only from a
 * 0.2.0 plugin and means {@code ["0.1.0","0.2.0"]}. Unknown keys are ignored.
 *
 * @param cniVersion        the version of this output (a plugin prints the newest it implements)
 * @param supportedVersions the versions the plugin accepts, at least one
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record VersionInfo(CniVersion cniVersion, List<CniVersion> supportedVersions) implements CniJson {

    public VersionInfo {
        Check.required(cniVersion, "cniVersion");
        supportedVersions = Check.list(supportedVersions, "supportedVersions");
        if (supportedVersions.isEmpty()) {
            throw Check.invalid("supportedVersions", "at least one version is required");
        }
    }

    /** A plugin's answer: {@code cniVersion} = {@link CniVersion#LATEST}. */
    public static VersionInfo of(List<CniVersion> supportedVersions) {
        return new VersionInfo(CniVersion.LATEST, supportedVersions);
    }

    /** Whether {@code version} is one of the supported versions. */
    public boolean supports(CniVersion version) {
        return version.isIn(supportedVersions);
    }

    public static VersionInfo parse(String json) throws CniException {
        return finish(Json.open(json));
    }

    public static VersionInfo parse(byte[] json) throws CniException {
        return finish(Json.open(json));
    }

    private static VersionInfo finish(JsonIn in) throws CniException {
        try {
            VersionInfo v = read(in);
            Json.finish(in);
            return v;
        } catch (DecodeFailure | IOException e) {
            throw Json.failure(e, false);
        }
    }

    static VersionInfo read(JsonIn in) throws IOException {
        in.beginObject("a version object");
        CniVersion version = null;
        List<CniVersion> supported = null;
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "cniVersion":
                    version = in.version(f);
                    break;
                case "supportedVersions":
                    if (in.beginArray(f)) {
                        supported = new ArrayList<>();
                        for (int i = 0; in.nextElement(); i++) {
                            in.enter(i);
                            supported.add(CniVersion.read(in));
                            in.leave();
                        }
                        in.leave();
                    }
                    break;
                default:
                    in.skip();
            }
        }
        if (version == null) {
            throw in.invalid("cniVersion", "required");
        }
        if (supported == null || supported.isEmpty()) {
            if (version.equals(CniVersion.V0_2_0)) {
                supported = List.of(CniVersion.V0_1_0, CniVersion.V0_2_0);
            } else {
                throw in.invalid("supportedVersions", "required");
            }
        }
        try {
            return new VersionInfo(version, supported);
        } catch (IllegalArgumentException e) {
            throw in.invalid(e);
        }
    }

    @Override
    public void writeJson(JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeStringField("cniVersion", cniVersion.toString());
        g.writeArrayFieldStart("supportedVersions");
        for (CniVersion v : supportedVersions) {
            g.writeString(v.toString());
        }
        g.writeEndArray();
        g.writeEndObject();
    }
}
