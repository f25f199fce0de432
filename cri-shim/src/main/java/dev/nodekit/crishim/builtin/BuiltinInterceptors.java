package dev.nodekit.crishim.builtin;

import java.util.List;

import dev.nodekit.crishim.api.CriInterceptorProvider;

/** The interceptor types every shim knows: {@code audit}, {@code metrics}, {@code policy}. */
public final class BuiltinInterceptors {
    private BuiltinInterceptors() {
    }

    /** New instances of the built-in providers. */
    public static List<CriInterceptorProvider> providers() {
        return List.of(new AuditInterceptor.Provider(), new MetricsInterceptor.Provider(),
                new PolicyInterceptor.Provider());
    }
}
