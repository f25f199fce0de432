package dev.nodekit.common.testing;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;
import org.opentest4j.TestAbortedException;

import dev.nodekit.common.Requirement;

/**
 * Enforces {@link Requires}: skip with the reason, or fail in strict mode. Runs before
 * {@code @BeforeAll} so fixtures never start on a host that cannot run them.
 */
public final class RequirementExtension implements BeforeAllCallback, BeforeEachCallback {

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getTestClass().ifPresent(c -> check(collect(c), context.getDisplayName()));
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        Set<Requirement> reqs = new LinkedHashSet<>();
        context.getTestClass().ifPresent(c -> reqs.addAll(collect(c)));
        context.getTestMethod().ifPresent(m -> AnnotationSupport.findAnnotation(m, Requires.class)
                .ifPresent(r -> reqs.addAll(List.of(r.value()))));
        check(reqs, context.getDisplayName());
    }

    private static Set<Requirement> collect(Class<?> c) {
        Set<Requirement> reqs = new LinkedHashSet<>();
        for (Class<?> k = c; k != null; k = k.getEnclosingClass()) {
            AnnotationSupport.findAnnotation(k, Requires.class).ifPresent(r -> reqs.addAll(List.of(r.value())));
        }
        return reqs;
    }

    /** Throws a skip (or, strict, a failure) when any of {@code reqs} is missing on this host. */
    public static void check(Iterable<Requirement> reqs, String what) {
        List<String> missing = new ArrayList<>(Requirement.missingOf(reqs));
        if (missing.isEmpty()) {
            return;
        }
        String reason = what + " needs " + String.join("; ", missing);
        if (Requirement.strict()) {
            throw new AssertionError("strict mode (NODEKIT_STRICT=1): " + reason);
        }
        throw new TestAbortedException(reason);
    }
}
