package dev.nodekit.common.log;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import java.util.List;

import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * One {@link KvLogger} per name. Chatty libraries ({@link #CHATTY}) are capped at INFO unless the
 * level is TRACE: OSHI alone logs a DEBUG line for every /proc and /sys file it reads, hundreds
 * per node-facts collection, which would bury nodekit's own DEBUG lines.
 */
final class KvLoggerFactory implements ILoggerFactory {
    static final List<String> CHATTY = List.of("oshi.");

    private final ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();
    private final LogConfig config;
    private final LogConfig chattyConfig;

    KvLoggerFactory(LogConfig config) {
        this.config = config;
        this.chattyConfig = config.level() == Level.DEBUG ? new LogConfig(Level.INFO, config.out()) : config;
    }

    @Override
    public Logger getLogger(String name) {
        return loggers.computeIfAbsent(name, n -> new KvLogger(n, isChatty(n) ? chattyConfig : config));
    }

    private static boolean isChatty(String name) {
        return CHATTY.stream().anyMatch(name::startsWith);
    }
}
