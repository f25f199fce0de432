package dev.nodekit.e2e.containerd;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Injects {@link ContainerdFixture#shared()} into test constructors, {@code @BeforeAll} and test
 * methods, and closes it when the whole JUnit run ends (a resource of the root context), before the
 * JVM's shutdown hook would. Use it after {@code @Requires}, so that no containerd starts on a host
 * that cannot run it:
 * <pre>{@code
 * @Requires({ROOT, CONTAINERD, NETNS, CNI_REFERENCE_PLUGINS})
 * @ExtendWith(ContainerdExtension.class)
 * class FooIT { @BeforeAll static void up(ContainerdFixture containerd) { ... } }
 * }</pre>
 */
public final class ContainerdExtension implements ParameterResolver {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(ContainerdExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext context) {
        return p.getParameter().getType() == ContainerdFixture.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext context) {
        context.getRoot().getStore(NS).getOrComputeIfAbsent("closer", k -> new Closer(), Closer.class);
        try {
            return ContainerdFixture.shared();
        } catch (Exception e) {
            throw new ParameterResolutionException("cannot start the shared containerd: " + e.getMessage(), e);
        }
    }

    /** Closes the shared instance when the root context closes. */
    @SuppressWarnings("deprecation") // CloseableResource for JUnit < 5.13, AutoCloseable for newer ones
    static final class Closer implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        @Override
        public void close() {
            ContainerdFixture.closeShared();
        }
    }
}
