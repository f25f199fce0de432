package dev.nodekit.conformance;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

import dev.nodekit.common.Requirement;

/**
 * An ordered list of checks run against one target type. Checks run in the order they were added;
 * each must be independent of the others (it creates and removes what it needs), so {@code --only}
 * can pick any of them.
 *
 * @param <T> the target type
 */
public final class Suite<T> {
    private final String name;
    private final List<Check<T>> checks;

    private Suite(String name, List<Check<T>> checks) {
        this.name = name;
        this.checks = List.copyOf(checks);
    }

    /** A new, empty suite builder. {@code name} is the JUnit XML suite name, e.g. {@code csi}. */
    public static <T> Builder<T> builder(String name) {
        return new Builder<>(name);
    }

    public String name() {
        return name;
    }

    public List<Check<T>> checks() {
        return checks;
    }

    /** This suite followed by {@code other}'s checks (ids must stay unique). */
    public Suite<T> plus(Suite<T> other) {
        Builder<T> b = new Builder<>(name);
        checks.forEach(b::add);
        other.checks.forEach(b::add);
        return b.build();
    }

    /** Builds a suite; rejects duplicate ids. */
    public static final class Builder<T> {
        private final String name;
        private final List<Check<T>> checks = new ArrayList<>();
        private final Set<String> ids = new HashSet<>();

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /** Adds a check that needs nothing from the host. */
        public Builder<T> check(String id, String specSection, String description, CheckBody<T> body) {
            return add(new Check<>(id, specSection, description, Set.of(), body));
        }

        /** Adds a check that needs {@code requirements} from the host. */
        public Builder<T> check(String id, String specSection, String description, Set<Requirement> requirements,
                CheckBody<T> body) {
            return add(new Check<>(id, specSection, description, requirements, body));
        }

        public Builder<T> add(Check<T> check) {
            if (!ids.add(check.id())) {
                throw new IllegalArgumentException("duplicate check id " + check.id() + " in suite " + name);
            }
            checks.add(check);
            return this;
        }

        public Suite<T> build() {
            return new Suite<>(name, checks);
        }
    }
}
