/**
 * The command-line frame: picocli commands shared by every program ({@code version}) and the
 * build information. The top-level {@code nodekit} command lives in the e2e module, the only
 * module that sees every plugin; it registers subcommands from an explicit list (no classpath
 * scanning: start-up time matters).
 */
package dev.nodekit.common.cli;
