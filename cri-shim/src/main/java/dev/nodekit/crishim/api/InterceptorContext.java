package dev.nodekit.crishim.api;

import java.time.Clock;
import java.util.List;

import dev.nodekit.common.config.ConfigException;
import dev.nodekit.common.metrics.Metrics;

/** What a {@link CriInterceptorProvider} gets to build an interceptor from one config entry. */
public interface InterceptorContext {
    /** The entry's name: {@code name} in the config, or the type when absent. Unique in the chain. */
    String name();

    /**
     * The entry's {@code settings} bound to {@code type} with the config loader's strict rules
     * (unknown fields rejected, records validated in their compact constructor, durations as
     * {@code 5s}); an absent {@code settings} binds as an empty object.
     *
     * @throws ConfigException naming the config file and {@code interceptors[i].settings.field}
     */
    <T> T settings(Class<T> type) throws ConfigException;

    /** The program's metrics, to register instruments in. */
    Metrics metrics();

    /** The clock to read; tests pass a fixed one. */
    Clock clock();

    /** The runtimes the shim forwards to. */
    List<UpstreamView> upstreams();
}
