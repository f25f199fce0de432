package dev.nodekit.crishim;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.grpc.ConnectivityState;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;

/** All upstreams, and the one thread that watches their connections and reports up/down changes. */
final class Upstreams implements AutoCloseable {
    /** How often connections are checked; also the longest a recovered runtime waits to be used. */
    static final Duration TICK = Duration.ofMillis(200);
    private static final Logger log = LoggerFactory.getLogger(Upstreams.class);

    private final List<Upstream> all;
    private final Map<String, Upstream> byName = new HashMap<>();
    private final Upstream primary;
    private final ScheduledExecutorService monitor;
    private final Map<Upstream, Boolean> lastUp = new HashMap<>();
    private final List<Consumer<Upstream>> onConnected = new CopyOnWriteArrayList<>();

    Upstreams(List<UpstreamConfig> configs, String defaultName, EventLoopGroup loop) {
        List<Upstream> list = new ArrayList<>();
        for (UpstreamConfig c : configs) {
            Upstream u = new Upstream(c, loop);
            list.add(u);
            byName.put(c.name(), u);
        }
        this.all = List.copyOf(list);
        this.primary = defaultName.isEmpty() ? all.get(0) : byName.get(defaultName);
        this.monitor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "nodekit-cri-upstream-monitor");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts watching: connects eagerly, so the first call after start-up does not pay for it. */
    void start() {
        for (Upstream u : all) {
            u.tick();
        }
        monitor.scheduleWithFixedDelay(this::tick, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Runs {@code listener} (on the monitor thread) each time an upstream becomes reachable, also the first time. */
    void onConnected(Consumer<Upstream> listener) {
        onConnected.add(listener);
    }

    List<Upstream> all() {
        return all;
    }

    Upstream primary() {
        return primary;
    }

    Optional<Upstream> named(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    boolean single() {
        return all.size() == 1;
    }

    private void tick() {
        for (Upstream u : all) {
            try {
                ConnectivityState s = u.tick();
                boolean up = s == ConnectivityState.READY;
                Boolean before = lastUp.get(u);
                if (up && !Boolean.TRUE.equals(before)) {
                    lastUp.put(u, true);
                    log.atInfo().addKeyValue("upstream", u.name()).addKeyValue("endpoint", u.endpoint())
                            .log("runtime connected");
                    for (Consumer<Upstream> l : onConnected) {
                        l.accept(u);
                    }
                } else if (!up && !Boolean.FALSE.equals(before)
                        && (before != null || s == ConnectivityState.TRANSIENT_FAILURE)) {
                    // Down from up, or never up and the first attempt failed (not merely still connecting).
                    lastUp.put(u, false);
                    log.atWarn().addKeyValue("upstream", u.name()).addKeyValue("endpoint", u.endpoint())
                            .addKeyValue("state", s).log("runtime unreachable; calls to it fail with UNAVAILABLE");
                }
            } catch (RuntimeException e) {
                log.atError().setCause(e).addKeyValue("upstream", u.name()).log("upstream monitor tick failed");
            }
        }
    }

    @Override
    public void close() {
        monitor.shutdownNow();
        for (Upstream u : all) {
            u.shutdown();
        }
        for (Upstream u : all) {
            try {
                u.awaitTermination(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
