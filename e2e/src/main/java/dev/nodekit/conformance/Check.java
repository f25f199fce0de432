package dev.nodekit.conformance;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

import dev.nodekit.common.Requirement;

/**
 * One conformance check: a stable id ({@code csi.node.publish-readonly}), the spec section it
 * enforces, a one-line description, the host {@link Requirement}s it needs and its body.
 * Ids are lower-case dotted words; they are the JUnit test names and the keys of
 * {@code --only/--skip}, so never rename one without a reason.
 *
 * @param <T> the target type
 */
public record Check<T>(String id, String specSection, String description, Set<Requirement> requirements,
        CheckBody<T> body) {
    private static final Pattern ID = Pattern.compile("[a-z0-9]+(\\.[a-z0-9][a-z0-9-]*)+");

    public Check {
        Objects.requireNonNull(id, "id");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("check id '" + id + "' must be dotted lower-case words, e.g. csi.node.publish");
        }
        Objects.requireNonNull(specSection, "specSection");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(body, "body");
        requirements = requirements.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(requirements));
    }
}
