package dev.nodekit.crishim;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.nodekit.crishim.api.CriInterceptor;
import dev.nodekit.crishim.api.CriInterceptorProvider;
import dev.nodekit.crishim.api.InterceptorContext;

/**
 * Interceptors a test defines in code and the config names: {@code type: test, name: X} becomes
 * the interceptor registered under X. The test harness hands the provider to the shim in code.
 */
public final class TestInterceptors {
    private static final Map<String, CriInterceptor> BY_NAME = new ConcurrentHashMap<>();

    private TestInterceptors() {
    }

    static void define(String name, CriInterceptor interceptor) {
        BY_NAME.put(name, interceptor);
    }

    static void clear() {
        BY_NAME.clear();
    }

    /** Provider of type {@code test}. */
    public static final class Provider implements CriInterceptorProvider {
        @Override
        public String type() {
            return "test";
        }

        @Override
        public CriInterceptor create(InterceptorContext context) {
            CriInterceptor i = BY_NAME.get(context.name());
            if (i == null) {
                throw new IllegalStateException("no test interceptor defined as " + context.name());
            }
            return i;
        }
    }
}
