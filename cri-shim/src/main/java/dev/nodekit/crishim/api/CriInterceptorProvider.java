package dev.nodekit.crishim.api;

import dev.nodekit.common.config.ConfigException;

/**
 * Makes interceptors of one {@link #type()}: the name the config's {@code interceptors[].type}
 * refers to. The built-in providers are {@code audit}, {@code metrics} and {@code policy}; others
 * are found with {@link java.util.ServiceLoader} in the jars of the config's {@code pluginPath}
 * (a jar lists its providers in {@code META-INF/services/dev.nodekit.crishim.api.CriInterceptorProvider}).
 * A provider needs a public no-argument constructor.
 */
public interface CriInterceptorProvider {
    /** The type name, lower-case letters, digits and dashes; unique among all providers. */
    String type();

    /** The failure mode when the config does not say; OPEN unless the interceptor enforces security. */
    default FailureMode defaultFailureMode() {
        return FailureMode.OPEN;
    }

    /**
     * A new interceptor for one entry of the config.
     *
     * @throws ConfigException if its settings are invalid (use {@link InterceptorContext#settings})
     */
    CriInterceptor create(InterceptorContext context) throws ConfigException;
}
