package dev.nodekit.conformance;

/** The outcome of one check. */
public enum Outcome {
    PASS, FAIL, SKIP
}
