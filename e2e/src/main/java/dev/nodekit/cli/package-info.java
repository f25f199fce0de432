/** The {@code nodekit} command line: the top-level command and the conformance commands. */
package dev.nodekit.cli;
