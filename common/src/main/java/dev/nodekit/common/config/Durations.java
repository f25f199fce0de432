package dev.nodekit.common.config;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations written the way Kubernetes and Go tools write them: a sequence of numbers with units,
 * {@code 250ms}, {@code 5s}, {@code 2m}, {@code 1h30m}, {@code 1.5s}. Units: {@code ns},
 * {@code us} (or {@code µs}), {@code ms}, {@code s}, {@code m}, {@code h}, {@code d}. {@code 0}
 * alone is allowed; any other number needs a unit. ISO-8601 ({@code PT5S}) is accepted too.
 * Negative durations are rejected: no nodekit setting means "in the past".
 */
public final class Durations {
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|\u00b5s|ms|s|m|h|d)");
    private static final Pattern WHOLE = Pattern.compile("(?:\\d+(?:\\.\\d+)?(?:ns|us|\u00b5s|ms|s|m|h|d))+");
    private static final Map<String, Long> NANOS_PER_UNIT = Map.of("ns", 1L, "us", 1_000L, "\u00b5s", 1_000L,
            "ms", 1_000_000L, "s", 1_000_000_000L, "m", 60_000_000_000L, "h", 3_600_000_000_000L,
            "d", 86_400_000_000_000L);
    private static final BigInteger MAX_NANOS = BigInteger.valueOf(Long.MAX_VALUE);

    /** What the error messages suggest. */
    public static final String EXAMPLES = "250ms, 5s, 2m, 1h30m";

    private Durations() {
    }

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException saying what is wrong (unit missing, negative, unknown unit)
     */
    public static Duration parse(String text) {
        String s = text == null ? "" : text.strip();
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        if (s.startsWith("-")) {
            throw new IllegalArgumentException("negative durations are not allowed");
        }
        if (s.startsWith("P") || s.startsWith("p")) {
            try {
                Duration d = Duration.parse(s);
                if (d.isNegative()) {
                    throw new IllegalArgumentException("negative durations are not allowed");
                }
                return d;
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("not an ISO-8601 duration");
            }
        }
        if (s.matches("\\d+(\\.\\d+)?")) {
            throw new IllegalArgumentException("a number needs a unit, e.g. " + s + "s or " + s + "ms");
        }
        if (!WHOLE.matcher(s).matches()) {
            throw new IllegalArgumentException("use a number with a unit (ns, us, ms, s, m, h, d), e.g. " + EXAMPLES);
        }
        BigInteger nanos = BigInteger.ZERO;
        Matcher m = PART.matcher(s);
        while (m.find()) {
            BigDecimal n = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(NANOS_PER_UNIT.get(m.group(2))));
            nanos = nanos.add(n.toBigInteger());
        }
        if (nanos.compareTo(MAX_NANOS) > 0) {
            throw new IllegalArgumentException("too long (at most about 292 years)");
        }
        return Duration.ofNanos(nanos.longValueExact());
    }

    /**
     * Formats {@code d} so that {@link #parse} reads it back: {@code 1h30m}, {@code 1m30s},
     * {@code 1.5s}, {@code 250ms}, {@code 0s}.
     */
    public static String format(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("negative duration " + d);
        }
        if (d.isZero()) {
            return "0s";
        }
        long hours = d.toHours();
        long minutes = d.toMinutesPart();
        Duration rest = d.minusHours(hours).minusMinutes(minutes);
        StringBuilder sb = new StringBuilder();
        if (hours > 0) {
            sb.append(hours).append('h');
        }
        if (minutes > 0) {
            sb.append(minutes).append('m');
        }
        if (!rest.isZero()) {
            long nanos = rest.toNanos();
            if (sb.length() == 0 && nanos < 1_000_000_000L) {
                if (nanos % 1_000_000 == 0) {
                    sb.append(nanos / 1_000_000).append("ms");
                } else if (nanos % 1_000 == 0) {
                    sb.append(nanos / 1_000).append("us");
                } else {
                    sb.append(nanos).append("ns");
                }
            } else {
                sb.append(BigDecimal.valueOf(nanos).movePointLeft(9).stripTrailingZeros().toPlainString()).append('s');
            }
        }
        return sb.toString();
    }
}
