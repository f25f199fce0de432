package dev.nodekit.csi;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.metrics.Metrics;
import dev.nodekit.csi.local.LocalBackend;
import dev.nodekit.csi.local.LocalBackendConfig;
import dev.nodekit.csi.local.LocalBackendFactory;
import dev.nodekit.csi.spi.StorageBackend;
import dev.nodekit.csi.spi.StorageException;

/**
 * The storage backends {@code nodekit csi --backend KIND} can open, by kind. The services only
 * ever see a {@link StorageBackend}; a new backend (the RBD one) adds a {@link Factory} to
 * {@link #builtIn()} and nothing else changes.
 */
public final class BackendRegistry {
    private final Map<String, Factory> factories;

    /** Opens one kind of backend. */
    @FunctionalInterface
    public interface Factory {
        /** Opens the backend: reads or creates its state under the context's data dir and reconciles it. */
        StorageBackend open(Context context) throws IOException, StorageException;
    }

    /**
     * What a backend is opened with: its data directory, the node it runs on (the cluster of its
     * ids), and the injected world.
     */
    public record Context(Path dataDir, String nodeId, CommandRunner runner, Clock clock, Metrics metrics) {
        public Context {
            Objects.requireNonNull(dataDir, "dataDir");
            Objects.requireNonNull(nodeId, "nodeId");
            Objects.requireNonNull(runner, "runner");
            Objects.requireNonNull(clock, "clock");
            Objects.requireNonNull(metrics, "metrics");
        }
    }

    private BackendRegistry(Map<String, Factory> factories) {
        this.factories = Map.copyOf(factories);
    }

    /** A registry of exactly these factories (tests register fakes). */
    public static BackendRegistry of(Map<String, Factory> factories) {
        return new BackendRegistry(new LinkedHashMap<>(factories));
    }

    /** The backends shipped with nodekit: {@code local} (sparse files on loop devices under the data dir). */
    public static BackendRegistry builtIn() {
        return of(Map.of(LocalBackend.KIND, ctx -> LocalBackendFactory.open(
                LocalBackendConfig.of(ctx.dataDir(), ctx.nodeId()), ctx.runner(), ctx.clock())));
    }

    /** The kinds this registry can open, sorted. */
    public List<String> kinds() {
        return factories.keySet().stream().sorted().toList();
    }

    /**
     * Opens the backend of {@code kind}.
     *
     * @throws IllegalArgumentException naming the known kinds when {@code kind} is not one
     */
    public StorageBackend open(String kind, Context context) throws IOException, StorageException {
        Factory f = factories.get(kind);
        if (f == null) {
            throw new IllegalArgumentException("--backend '" + kind + "' is not known; available: "
                    + String.join(", ", kinds()));
        }
        return f.open(context);
    }
}
