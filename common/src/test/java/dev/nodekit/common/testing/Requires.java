package dev.nodekit.common.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.extension.ExtendWith;

import dev.nodekit.common.Requirement;

/**
 * Marks a test class or method as needing real components. When one is missing the test is
 * skipped with the reason, or, in strict mode ({@code NODEKIT_STRICT=1}), fails: green CI always
 * means the real thing ran. The same {@link Requirement} names drive the conformance harness.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@ExtendWith(RequirementExtension.class)
public @interface Requires {
    Requirement[] value();
}
