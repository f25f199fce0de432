package dev.nodekit.crishim.builtin;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One rule of the {@code policy} interceptor: where it applies ({@code match} and not
 * {@code except}) and what it does there (deny, add, limit). Rules are checked in order; every rule
 * that applies takes effect.
 *
 * @param name   named in rejections and logs
 * @param match  where the rule applies; absent = everywhere
 * @param except where it does not, even if {@code match} says so: any of these (each one a
 *               {@link Match} whose conditions must all hold)
 * @param deny   what pods and containers may not ask for
 * @param add    labels, annotations (pods and containers) and environment variables (containers) set
 *               when absent; what the workload set itself wins
 * @param limits upper bounds on container resources; an unlimited request gets the bound
 */
record PolicyRule(String name, Match match, List<Match> except, Deny deny, Add add, Limits limits) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    PolicyRule {
        Objects.requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name: '" + name + "' must be 1-63 letters, digits, '.', '_' or '-'");
        }
        match = match == null ? Match.ANY : match;
        except = except == null ? List.of() : List.copyOf(except);
        deny = deny == null ? new Deny(null, null, null, null, null, null) : deny;
        add = add == null ? new Add(null, null, null) : add;
        limits = limits == null ? new Limits(null, null) : limits;
        if (deny.isEmpty() && add.isEmpty() && limits.isEmpty()) {
            throw new IllegalArgumentException("rule '" + name + "' has no effect: give it deny, add or limits");
        }
    }

    boolean appliesTo(PodFacts pod) {
        return match.matches(pod) && except.stream().noneMatch(e -> e.matches(pod));
    }

    /**
     * Conditions on the pod, all of which must hold (an absent condition holds).
     *
     * @param namespaces      namespace globs ({@code team-*}); any of them
     * @param labels          pod labels that must be present with these values ({@code "*"}: any value)
     * @param annotations     pod annotations, likewise
     * @param runtimeHandlers runtime handlers; {@code ""} is the default one
     */
    record Match(List<String> namespaces, Map<String, String> labels, Map<String, String> annotations,
            List<String> runtimeHandlers) {
        static final Match ANY = new Match(null, null, null, null);

        Match {
            namespaces = namespaces == null ? null : List.copyOf(namespaces);
            labels = labels == null ? Map.of() : Map.copyOf(labels);
            annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
            runtimeHandlers = runtimeHandlers == null ? null : List.copyOf(runtimeHandlers);
        }

        boolean matches(PodFacts pod) {
            if (namespaces != null && namespaces.stream().noneMatch(g -> glob(g, pod.namespace()))) {
                return false;
            }
            if (runtimeHandlers != null && !runtimeHandlers.contains(pod.runtimeHandler())) {
                return false;
            }
            return contains(pod.labels(), labels) && contains(pod.annotations(), annotations);
        }

        private static boolean contains(Map<String, String> have, Map<String, String> want) {
            for (Map.Entry<String, String> w : want.entrySet()) {
                String v = have.get(w.getKey());
                if (v == null || !(w.getValue().equals("*") || w.getValue().equals(v))) {
                    return false;
                }
            }
            return true;
        }

        static boolean glob(String glob, String s) {
            StringBuilder re = new StringBuilder();
            for (char c : glob.toCharArray()) {
                if (c == '*') {
                    re.append(".*");
                } else if (c == '?') {
                    re.append('.');
                } else {
                    re.append(Pattern.quote(String.valueOf(c)));
                }
            }
            return s.matches(re.toString());
        }
    }

    /**
     * What is refused. Pod-level ({@code hostNetwork}, {@code hostPID}, {@code hostIPC},
     * {@code privileged}, {@code runAsRoot}) is checked at RunPodSandbox; container-level
     * ({@code privileged}, {@code capabilities}, {@code runAsRoot}, host namespaces) at CreateContainer.
     *
     * @param runAsRoot    an explicit uid 0 or user "root"; an image that runs as root by default is
     *                     not seen (that needs the image config)
     * @param capabilities capabilities that may not be added ({@code SYS_ADMIN}; adding {@code ALL}
     *                     counts as adding every one)
     */
    record Deny(Boolean privileged, Boolean hostNetwork, Boolean hostPID, Boolean hostIPC, Boolean runAsRoot,
            List<String> capabilities) {
        Deny {
            privileged = privileged != null && privileged;
            hostNetwork = hostNetwork != null && hostNetwork;
            hostPID = hostPID != null && hostPID;
            hostIPC = hostIPC != null && hostIPC;
            runAsRoot = runAsRoot != null && runAsRoot;
            capabilities = capabilities == null ? List.of()
                    : capabilities.stream().map(c -> c.toUpperCase(java.util.Locale.ROOT).replaceFirst("^CAP_", ""))
                            .toList();
        }

        boolean isEmpty() {
            return !privileged && !hostNetwork && !hostPID && !hostIPC && !runAsRoot && capabilities.isEmpty();
        }
    }

    /**
     * What is set when absent.
     *
     * @param env container environment variables
     */
    record Add(Map<String, String> labels, Map<String, String> annotations, Map<String, String> env) {
        Add {
            labels = labels == null ? Map.of() : Map.copyOf(labels);
            annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
            env = env == null ? Map.of() : Map.copyOf(env);
        }

        boolean isEmpty() {
            return labels.isEmpty() && annotations.isEmpty() && env.isEmpty();
        }
    }

    /**
     * Upper bounds on one container's resources (CreateContainer and UpdateContainerResources).
     *
     * @param maxMemoryBytes memory limit cap
     * @param maxCpuMillis   CPU cap in millicores (cpu quota over period)
     */
    record Limits(Long maxMemoryBytes, Long maxCpuMillis) {
        Limits {
            if (maxMemoryBytes != null && maxMemoryBytes < 4 * 1024 * 1024) {
                throw new IllegalArgumentException("maxMemoryBytes: must be at least 4 MiB (4194304), got " + maxMemoryBytes);
            }
            if (maxCpuMillis != null && maxCpuMillis < 10) {
                throw new IllegalArgumentException("maxCpuMillis: must be at least 10, got " + maxCpuMillis);
            }
        }

        boolean isEmpty() {
            return maxMemoryBytes == null && maxCpuMillis == null;
        }
    }

    /** What rules match on: the pod's namespace, labels, annotations and runtime handler. */
    record PodFacts(String namespace, Map<String, String> labels, Map<String, String> annotations,
            String runtimeHandler) {
    }
}
