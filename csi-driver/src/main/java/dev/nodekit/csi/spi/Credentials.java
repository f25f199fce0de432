package dev.nodekit.csi.spi;

import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The secrets a CSI request carried, passed to every backend call as an opaque map (empty for the
 * local backend; the RBD backend reads {@code userID} and {@code userKey}). {@link #toString()}
 * never prints a value.
 */
public final class Credentials {
    private static final Credentials NONE = new Credentials(Map.of());
    private final Map<String, String> secrets;

    private Credentials(Map<String, String> secrets) {
        this.secrets = Map.copyOf(secrets);
    }

    public static Credentials of(Map<String, String> secrets) {
        return secrets.isEmpty() ? NONE : new Credentials(secrets);
    }

    public static Credentials none() {
        return NONE;
    }

    public Optional<String> get(String key) {
        return Optional.ofNullable(secrets.get(key));
    }

    public boolean isEmpty() {
        return secrets.isEmpty();
    }

    /** The secret map itself; for the backend that consumes it, never for logging. */
    public Map<String, String> asMap() {
        return secrets;
    }

    @Override
    public String toString() {
        return "Credentials" + new TreeSet<>(secrets.keySet()) + "(values redacted)";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Credentials c && c.secrets.equals(secrets);
    }

    @Override
    public int hashCode() {
        return secrets.hashCode();
    }
}
