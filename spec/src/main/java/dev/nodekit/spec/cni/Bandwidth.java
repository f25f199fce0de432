package dev.nodekit.spec.cni;

import java.io.IOException;
import java.util.Map;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

/**
 * The {@code bandwidth} capability (traffic shaping):
 * {@code {"ingressRate":1000000,"ingressBurst":2000000,"egressRate":1000000,"egressBurst":2000000}}.
 * Rates are bits per second, bursts bits; 0 (or a missing key) means "not limited". All four keys are
 * always written, as Go's struct does.
 *
 * @param ingressRate  ingress rate, bits/s
 * @param ingressBurst ingress burst, bits
 * @param egressRate   egress rate, bits/s
 * @param egressBurst  egress burst, bits
 * @param extra        unknown keys, kept as read
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record Bandwidth(long ingressRate, long ingressBurst, long egressRate, long egressBurst,
        Map<String, Object> extra) implements CniJson {

    private static final String[] KNOWN = {"ingressRate", "ingressBurst", "egressRate", "egressBurst"};

    public Bandwidth {
        Check.nonNegative(ingressRate, "ingressRate");
        Check.nonNegative(ingressBurst, "ingressBurst");
        Check.nonNegative(egressRate, "egressRate");
        Check.nonNegative(egressBurst, "egressBurst");
        extra = Check.extra(extra, KNOWN);
    }

    static Bandwidth read(JsonIn in) throws IOException {
        in.beginObject("a bandwidth object");
        long ir = 0;
        long ib = 0;
        long er = 0;
        long eb = 0;
        Map<String, Object> extra = null;
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "ingressRate":
                    ir = in.longOrZero(f);
                    break;
                case "ingressBurst":
                    ib = in.longOrZero(f);
                    break;
                case "egressRate":
                    er = in.longOrZero(f);
                    break;
                case "egressBurst":
                    eb = in.longOrZero(f);
                    break;
                default:
                    extra = in.extra(extra, f);
            }
        }
        try {
            return new Bandwidth(ir, ib, er, eb, extra);
        } catch (IllegalArgumentException e) {
            throw in.invalid(e);
        }
    }

    @Override
    public void writeJson(JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeNumberField("ingressRate", ingressRate);
        g.writeNumberField("ingressBurst", ingressBurst);
        g.writeNumberField("egressRate", egressRate);
        g.writeNumberField("egressBurst", egressBurst);
        JsonValues.writeFields(g, extra);
        g.writeEndObject();
    }
}
