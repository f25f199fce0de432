package dev.nodekit.common.log;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;

/** One {@link KvLogger} per name, with the level {@link LogConfig#levelFor} gives it. */
final class KvLoggerFactory implements ILoggerFactory {
    private final ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();
    private final LogConfig config;

    KvLoggerFactory(LogConfig config) {
        this.config = config;
    }

    @Override
    public Logger getLogger(String name) {
        return loggers.computeIfAbsent(name, n -> new KvLogger(n, config));
    }
}
