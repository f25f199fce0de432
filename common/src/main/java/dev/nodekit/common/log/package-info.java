/**
 * nodekit's SLF4J binding: key=value lines on stderr, level from {@code NODEKIT_LOG_LEVEL}
 * (default INFO), optional file from {@code NODEKIT_LOG_FILE}. Code logs through the SLF4J API
 * only; the request id of a gRPC call reaches every line through the MDC. Loggers of chatty
 * libraries (OSHI, which logs every file it reads) stay at INFO when the level is DEBUG; TRACE
 * shows them too.
 */
package dev.nodekit.common.log;
