package dev.nodekit.crishim;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import dev.nodekit.crishim.api.FailureMode;

/**
 * One entry of the interceptor chain ({@code interceptors[]} in the config file, outermost first).
 *
 * @param type     the provider's type: {@code audit}, {@code metrics}, {@code policy} or a plug-in's
 * @param name     unique name in the chain (logs, metrics, error messages); default: the type
 * @param failure  {@code open} or {@code closed}; default: the provider's (policy: closed, others open)
 * @param budget   longest a hook may take per call before it counts as failed; default {@value #DEFAULT_BUDGET_TEXT}
 * @param settings the provider's own settings, bound to its type when the chain is built
 */
public record InterceptorConfig(String type, String name, FailureMode failure, Duration budget, JsonNode settings) {
    /** Default time budget of one hook call. */
    public static final Duration DEFAULT_BUDGET = Duration.ofMillis(200);
    static final String DEFAULT_BUDGET_TEXT = "200ms";
    /** Budgets above this would let a hook eat most of kubelet's 2-minute request timeout. */
    public static final Duration MAX_BUDGET = Duration.ofSeconds(30);
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    public InterceptorConfig {
        Objects.requireNonNull(type, "type");
        if (!NAME.matcher(type).matches()) {
            throw new IllegalArgumentException("type: '" + type + "' must be lower-case letters, digits and dashes");
        }
        name = name == null ? type : name;
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name: '" + name + "' must be lower-case letters, digits and dashes");
        }
        budget = budget == null ? DEFAULT_BUDGET : budget;
        if (budget.isZero() || budget.compareTo(MAX_BUDGET) > 0) {
            throw new IllegalArgumentException("budget: must be above 0 and at most 30s, got " + budget);
        }
    }

    /** An entry of {@code type} with every default. */
    public static InterceptorConfig of(String type) {
        return new InterceptorConfig(type, null, null, null, null);
    }
}
