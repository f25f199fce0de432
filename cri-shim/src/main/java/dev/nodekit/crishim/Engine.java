package dev.nodekit.crishim;

import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.crishim.api.CallOutcome;

/** What every call of one shim shares: the chain, the hook runner, routing and the upstreams. */
final class Engine {
    private static final Logger log = LoggerFactory.getLogger(Engine.class);
    private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    final Chain chain;
    final HookRunner hooks;
    final Router router;
    final Upstreams upstreams;
    final RoutingConfig.ListFailure listFailure;

    Engine(Chain chain, HookRunner hooks, Router router, Upstreams upstreams, RoutingConfig.ListFailure listFailure) {
        this.chain = chain;
        this.hooks = hooks;
        this.router = router;
        this.upstreams = upstreams;
        this.listFailure = listFailure;
    }

    /** Tells every observer; an observer that throws is logged (rate-limited) and skipped. */
    void observe(CallOutcome outcome) {
        for (Chain.Observer o : chain.observers()) {
            try {
                o.observer().completed(outcome);
            } catch (RuntimeException e) {
                if (o.who().shouldLog(LOG_INTERVAL_NANOS)) {
                    log.atWarn().setCause(e).addKeyValue("interceptor", o.who().name())
                            .addKeyValue("method", outcome.method()).log("call observer failed");
                }
            }
        }
    }
}
