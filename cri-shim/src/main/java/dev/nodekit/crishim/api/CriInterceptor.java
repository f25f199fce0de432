package dev.nodekit.crishim.api;

/**
 * A plug-in on the CRI path between kubelet and the runtime. Created once at start-up by its
 * {@link CriInterceptorProvider}, it declares its hooks in {@link #register}; the shim then calls
 * them, possibly from many threads at once, so hooks must be thread-safe. Each interceptor in the
 * config has a {@link FailureMode} and a time budget per hook call.
 */
public interface CriInterceptor extends AutoCloseable {
    /** Declares the hooks; called once before the shim starts listening. */
    void register(Hooks hooks);

    /** Releases what the interceptor holds (files, threads); called once at shutdown after the last call. */
    @Override
    default void close() {
    }
}
