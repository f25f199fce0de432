package dev.nodekit.conformance;

/**
 * What a check does against a target. Returning normally is PASS; throwing {@link CheckSkipped} is
 * SKIP with its reason; throwing anything else is FAIL with the exception's message.
 *
 * @param <T> the target type (a CSI endpoint, a CNI bin dir, a CRI endpoint)
 */
@FunctionalInterface
public interface CheckBody<T> {
    void run(T target) throws Exception;
}
