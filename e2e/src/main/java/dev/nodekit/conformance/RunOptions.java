package dev.nodekit.conformance;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

import dev.nodekit.common.Requirement;

/**
 * How a suite runs: which checks ({@code --only}/{@code --skip} regexes, searched in the check id),
 * whether a missing host requirement fails (strict) or skips, and the bound on one check.
 */
public record RunOptions(Optional<Pattern> only, Optional<Pattern> skip, boolean strict, Duration checkTimeout) {
    public RunOptions {
        Objects.requireNonNull(only, "only");
        Objects.requireNonNull(skip, "skip");
        Objects.requireNonNull(checkTimeout, "checkTimeout");
        if (checkTimeout.isNegative() || checkTimeout.isZero()) {
            throw new IllegalArgumentException("checkTimeout must be positive");
        }
    }

    /** All checks, strict as the environment says ({@code NODEKIT_STRICT}), 3 minutes per check. */
    public static RunOptions defaults() {
        return new RunOptions(Optional.empty(), Optional.empty(), Requirement.strict(), Duration.ofMinutes(3));
    }

    public RunOptions withOnly(String regex) {
        return new RunOptions(compile("--only", regex), skip, strict, checkTimeout);
    }

    public RunOptions withSkip(String regex) {
        return new RunOptions(only, compile("--skip", regex), strict, checkTimeout);
    }

    public RunOptions withStrict(boolean s) {
        return new RunOptions(only, skip, s, checkTimeout);
    }

    public RunOptions withCheckTimeout(Duration d) {
        return new RunOptions(only, skip, strict, d);
    }

    /** True when the check with this id is selected by --only and not excluded by --skip. */
    public boolean selects(String id) {
        return only.map(p -> p.matcher(id).find()).orElse(true) && !skip.map(p -> p.matcher(id).find()).orElse(false);
    }

    private static Optional<Pattern> compile(String flag, String regex) {
        if (regex == null || regex.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Pattern.compile(regex));
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException(flag + ": invalid regular expression '" + regex + "': " + e.getDescription());
        }
    }
}
