package dev.nodekit.crishim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import com.google.protobuf.Message;

import dev.nodekit.crishim.api.CriMethod;
import dev.nodekit.crishim.api.Hooks;

/**
 * The interceptor chain after registration: per CRI method, the hooks to run, in the order they
 * run. Immutable once built.
 */
final class Chain {
    private final List<ChainEntry> entries;
    private final Map<CriMethod<?, ?>, List<Before>> befores;
    private final Map<CriMethod<?, ?>, List<After>> afters;
    private final Map<CriMethod<?, ?>, List<Completion>> completions;
    private final List<Observer> observers;

    private Chain(List<ChainEntry> entries, Map<CriMethod<?, ?>, List<Before>> befores,
            Map<CriMethod<?, ?>, List<After>> afters, Map<CriMethod<?, ?>, List<Completion>> completions,
            List<Observer> observers) {
        this.entries = entries;
        this.befores = befores;
        this.afters = afters;
        this.completions = completions;
        this.observers = observers;
    }

    /** Asks each interceptor, outermost first, to register its hooks. */
    static Chain register(List<ChainEntry> entries) {
        Map<CriMethod<?, ?>, List<Before>> befores = new LinkedHashMap<>();
        Map<CriMethod<?, ?>, List<After>> afters = new LinkedHashMap<>();
        Map<CriMethod<?, ?>, List<Completion>> completions = new LinkedHashMap<>();
        List<Observer> observers = new ArrayList<>();
        for (ChainEntry e : entries) {
            e.interceptor().register(new Registrar(e, befores, afters, completions, observers));
        }
        // After-hooks and completions unwind the chain: the innermost interceptor sees the response first.
        afters.values().forEach(Collections::reverse);
        completions.values().forEach(Collections::reverse);
        Collections.reverse(observers);
        return new Chain(List.copyOf(entries), freeze(befores), freeze(afters), freeze(completions),
                List.copyOf(observers));
    }

    private static <T> Map<CriMethod<?, ?>, List<T>> freeze(Map<CriMethod<?, ?>, List<T>> m) {
        Map<CriMethod<?, ?>, List<T>> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, List.copyOf(v)));
        return Collections.unmodifiableMap(out);
    }

    List<ChainEntry> entries() {
        return entries;
    }

    List<Before> befores(CriMethod<?, ?> m) {
        return m == null ? List.of() : befores.getOrDefault(m, List.of());
    }

    List<After> afters(CriMethod<?, ?> m) {
        return m == null ? List.of() : afters.getOrDefault(m, List.of());
    }

    List<Completion> completions(CriMethod<?, ?> m) {
        return m == null ? List.of() : completions.getOrDefault(m, List.of());
    }

    List<Observer> observers() {
        return observers;
    }

    /** A registered before-hook. */
    record Before(ChainEntry who, Hooks.BeforeHook<Message> hook) {
    }

    /** A registered after-hook. */
    record After(ChainEntry who, Hooks.AfterHook<Message, Message> hook) {
    }

    /** A registered completion hook. */
    record Completion(ChainEntry who, Hooks.CompletionHook<Message, Message> hook) {
    }

    /** A registered observer. */
    record Observer(ChainEntry who, Hooks.CallObserver observer) {
    }

    /** The {@link Hooks} one interceptor registers through. */
    private static final class Registrar implements Hooks {
        private final ChainEntry who;
        private final Map<CriMethod<?, ?>, List<Before>> befores;
        private final Map<CriMethod<?, ?>, List<After>> afters;
        private final Map<CriMethod<?, ?>, List<Completion>> completions;
        private final List<Observer> observers;

        Registrar(ChainEntry who, Map<CriMethod<?, ?>, List<Before>> befores, Map<CriMethod<?, ?>, List<After>> afters,
                Map<CriMethod<?, ?>, List<Completion>> completions, List<Observer> observers) {
            this.who = who;
            this.befores = befores;
            this.afters = afters;
            this.completions = completions;
            this.observers = observers;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <Q extends Message, R extends Message> Hooks before(CriMethod<Q, R> method, BeforeHook<Q> hook) {
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(hook, "hook");
            befores.computeIfAbsent(method, k -> new ArrayList<>()).add(new Before(who, (BeforeHook<Message>) hook));
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <Q extends Message, R extends Message> Hooks after(CriMethod<Q, R> method, AfterHook<Q, R> hook) {
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(hook, "hook");
            afters.computeIfAbsent(method, k -> new ArrayList<>())
                    .add(new After(who, (AfterHook<Message, Message>) (AfterHook<?, ?>) hook));
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <Q extends Message, R extends Message> Hooks completed(CriMethod<Q, R> method,
                CompletionHook<Q, R> hook) {
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(hook, "hook");
            completions.computeIfAbsent(method, k -> new ArrayList<>())
                    .add(new Completion(who, (CompletionHook<Message, Message>) (CompletionHook<?, ?>) hook));
            return this;
        }

        @Override
        public Hooks everyCall(CallObserver observer) {
            observers.add(new Observer(who, Objects.requireNonNull(observer, "observer")));
            return this;
        }
    }
}
