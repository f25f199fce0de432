package dev.nodekit.spec.cni;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Compact-constructor checks. Every message starts with the field it is about ({@code "dst: required"})
 * so the decoder can prefix the path of the enclosing object ({@code "routes[2].dst: required"}).
 * Messages are only built on failure: string concatenation is an invokedynamic bootstrap that a
 * fresh JVM pays for on first use.
 */
final class Check {
    private Check() {
    }

    static IllegalArgumentException invalid(String field, String problem) {
        return new IllegalArgumentException(field + ": " + problem);
    }

    static <T> T required(T value, String field) {
        if (value == null) {
            throw invalid(field, "required");
        }
        return value;
    }

    static String nonEmpty(String value, String field) {
        if (value == null || value.isEmpty()) {
            throw invalid(field, "required (non-empty string)");
        }
        return value;
    }

    static <T> Optional<T> optional(Optional<T> value) {
        return value == null ? Optional.empty() : value;
    }

    static OptionalInt optional(OptionalInt value) {
        return value == null ? OptionalInt.empty() : value;
    }

    static String cidr(String value, String field) {
        required(value, field);
        if (Ip.cidrFamily(value) == 0) {
            throw invalid(field, "'" + value + "' is not a CIDR (expected ADDRESS/PREFIX)");
        }
        return value;
    }

    static Optional<String> optionalCidr(Optional<String> value, String field) {
        Optional<String> v = optional(value);
        if (v.isPresent()) {
            cidr(v.get(), field);
        }
        return v;
    }

    static String ip(String value, String field) {
        required(value, field);
        if (Ip.family(value) == 0) {
            throw invalid(field, "'" + value + "' is not an IP address");
        }
        return value;
    }

    static Optional<String> optionalIp(Optional<String> value, String field) {
        Optional<String> v = optional(value);
        if (v.isPresent()) {
            ip(v.get(), field);
        }
        return v;
    }

    /** {@code value >= 0}; Go's zero means "not set" for the int fields that use this. */
    static int nonNegative(int value, String field) {
        if (value < 0) {
            throw invalid(field, value + " is negative");
        }
        return value;
    }

    static long nonNegative(long value, String field) {
        if (value < 0) {
            throw invalid(field, value + " is negative");
        }
        return value;
    }

    /** Immutable copy; {@code null} means empty; a null element is an error naming its index. */
    static <T> List<T> list(List<T> value, String field) {
        if (value == null || value.isEmpty()) {
            return List.of();
        }
        for (int i = 0; i < value.size(); i++) {
            if (value.get(i) == null) {
                throw invalid(field + "[" + i + "]", "null element");
            }
        }
        return List.copyOf(value);
    }

    /** Immutable copy of a list of range sets (each a non-empty list of ranges). */
    static List<List<IpRange>> rangeSets(List<List<IpRange>> value, String field) {
        if (value == null || value.isEmpty()) {
            return List.of();
        }
        List<List<IpRange>> out = new ArrayList<>(value.size());
        for (int i = 0; i < value.size(); i++) {
            List<IpRange> set = value.get(i);
            if (set == null || set.isEmpty()) {
                throw invalid(field + "[" + i + "]", "empty range set");
            }
            for (int j = 0; j < set.size(); j++) {
                if (set.get(j) == null) {
                    throw invalid(field + "[" + i + "][" + j + "]", "null element");
                }
            }
            out.add(List.copyOf(set));
        }
        return List.copyOf(out);
    }

    /** Immutable, insertion-ordered copy of a string-keyed map with non-null keys and values. */
    static <V> Map<String, V> map(Map<String, V> value, String field) {
        if (value == null || value.isEmpty()) {
            return Map.of();
        }
        LinkedHashMap<String, V> copy = new LinkedHashMap<>(value.size() * 2);
        for (Map.Entry<String, V> e : value.entrySet()) {
            if (e.getKey() == null) {
                throw invalid(field, "null key");
            }
            if (e.getValue() == null) {
                throw invalid(field + "." + e.getKey(), "null value");
            }
            copy.put(e.getKey(), e.getValue());
        }
        return Collections.unmodifiableMap(copy);
    }

    /**
     * Deep immutable copy of the unknown keys of an object; none of them may be one of {@code known}
     * (those have their own record component and would be written twice).
     */
    static Map<String, Object> extra(Map<String, Object> value, String[] known) {
        if (value == null || value.isEmpty()) {
            return Map.of();
        }
        for (String k : value.keySet()) {
            if (k == null) {
                throw invalid("extra", "null key");
            }
            for (String kn : known) {
                if (kn.equals(k)) {
                    throw invalid(k, "is a known field; set it through its component, not through extra");
                }
            }
        }
        return JsonValues.copyObject(value, "");
    }
}
