package dev.nodekit.crishim.builtin;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.protobuf.ByteString;

import dev.nodekit.common.config.ConfigException;
import dev.nodekit.crishim.api.CriCall;
import dev.nodekit.crishim.api.CriInterceptor;
import dev.nodekit.crishim.api.CriInterceptorProvider;
import dev.nodekit.crishim.api.CriMethods;
import dev.nodekit.crishim.api.CriRejection;
import dev.nodekit.crishim.api.FailureMode;
import dev.nodekit.crishim.api.Hooks;
import dev.nodekit.crishim.api.InterceptorContext;
import dev.nodekit.spec.cri.v1.ContainerConfig;
import dev.nodekit.spec.cri.v1.CreateContainerRequest;
import dev.nodekit.spec.cri.v1.CreateContainerResponse;
import dev.nodekit.spec.cri.v1.KeyValue;
import dev.nodekit.spec.cri.v1.LinuxContainerResources;
import dev.nodekit.spec.cri.v1.LinuxContainerSecurityContext;
import dev.nodekit.spec.cri.v1.LinuxSandboxSecurityContext;
import dev.nodekit.spec.cri.v1.NamespaceMode;
import dev.nodekit.spec.cri.v1.NamespaceOption;
import dev.nodekit.spec.cri.v1.PodSandboxConfig;
import dev.nodekit.spec.cri.v1.RunPodSandboxRequest;
import dev.nodekit.spec.cri.v1.RunPodSandboxResponse;
import dev.nodekit.spec.cri.v1.UpdateContainerResourcesRequest;
import io.grpc.Status;

/**
 * The {@code policy} interceptor: rules over a pod's namespace, labels, annotations and runtime
 * handler, and the security context it asks for. It rejects (PERMISSION_DENIED, naming the rule),
 * adds labels, annotations and environment variables, and caps container resources. Fail-closed
 * by default: a policy that cannot be checked is not applied by letting the request through.
 *
 * <pre>{@code
 * - type: policy
 *   settings:
 *     rules:
 *       - name: no-privileged
 *         except: [{namespaces: [kube-system]}, {annotations: {policy.nodekit.dev/privileged: allowed}}]
 *         deny: {privileged: true, hostPID: true, capabilities: [SYS_ADMIN]}
 *       - name: team-defaults
 *         match: {namespaces: ["team-*"]}
 *         add: {labels: {cost-center: shared}, env: {TZ: UTC}}
 *         limits: {maxMemoryBytes: 4294967296, maxCpuMillis: 2000}
 * }</pre>
 *
 * <p>Hooks: RunPodSandbox and CreateContainer (before), UpdateContainerResources (before, caps
 * only), and the CreateContainer/RunPodSandbox answers (completion) to remember which pod a
 * container belongs to. UpdateContainerResources names only a container: its pod is the one seen
 * at CreateContainer; for a container created before the shim started, the tightest limits of any
 * rule apply (the safe side). CreateContainer carries the pod's config but not its runtime handler,
 * which is remembered from RunPodSandbox; a pod created before the shim started counts as the
 * default handler {@code ""}.
 */
public final class PolicyInterceptor implements CriInterceptor {
    static final int CACHE_ENTRIES = 8192;
    private static final Logger log = LoggerFactory.getLogger(PolicyInterceptor.class);

    private final List<PolicyRule> rules;
    private final AuditInterceptor.Lru<String, String> podHandlers = new AuditInterceptor.Lru<>(CACHE_ENTRIES);
    private final AuditInterceptor.Lru<String, PolicyRule.PodFacts> containerPods =
            new AuditInterceptor.Lru<>(CACHE_ENTRIES);

    PolicyInterceptor(List<PolicyRule> rules) {
        this.rules = List.copyOf(rules);
    }

    @Override
    public void register(Hooks hooks) {
        hooks.before(CriMethods.RUN_POD_SANDBOX, this::runPodSandbox);
        hooks.before(CriMethods.CREATE_CONTAINER, this::createContainer);
        boolean limits = rules.stream().anyMatch(r -> !r.limits().isEmpty());
        if (limits) {
            hooks.before(CriMethods.UPDATE_CONTAINER_RESOURCES, this::updateResources);
        }
        hooks.completed(CriMethods.RUN_POD_SANDBOX, (call, req, resp, outcome) -> resp
                .map(RunPodSandboxResponse::getPodSandboxId)
                .ifPresent(id -> podHandlers.put(id, req.getRuntimeHandler())));
        if (limits) {
            hooks.completed(CriMethods.CREATE_CONTAINER, (call, req, resp, outcome) -> resp
                    .map(CreateContainerResponse::getContainerId)
                    .ifPresent(id -> containerPods.put(id, facts(req.getSandboxConfig(),
                            Optional.ofNullable(podHandlers.get(req.getPodSandboxId())).orElse("")))));
        }
    }

    RunPodSandboxRequest runPodSandbox(CriCall call, RunPodSandboxRequest req) throws CriRejection {
        PodSandboxConfig pod = req.getConfig();
        PolicyRule.PodFacts facts = facts(pod, req.getRuntimeHandler());
        LinuxSandboxSecurityContext sc = pod.getLinux().getSecurityContext();
        PodSandboxConfig.Builder changed = null;
        for (PolicyRule r : applying(facts)) {
            PolicyRule.Deny d = r.deny();
            String subject = "pod " + podName(pod);
            deny(r, d.privileged() && sc.getPrivileged(), subject, "privileged mode");
            denyNamespaces(r, d, sc.getNamespaceOptions(), subject);
            deny(r, d.runAsRoot() && sc.hasRunAsUser() && sc.getRunAsUser().getValue() == 0, subject, "to run as root");
            PolicyRule.Add a = r.add();
            for (Map.Entry<String, String> e : a.labels().entrySet()) {
                if (!pod.containsLabels(e.getKey()) && (changed == null || !changed.containsLabels(e.getKey()))) {
                    changed = changed == null ? pod.toBuilder() : changed;
                    changed.putLabels(e.getKey(), e.getValue());
                }
            }
            for (Map.Entry<String, String> e : a.annotations().entrySet()) {
                if (!pod.containsAnnotations(e.getKey()) && (changed == null || !changed.containsAnnotations(e.getKey()))) {
                    changed = changed == null ? pod.toBuilder() : changed;
                    changed.putAnnotations(e.getKey(), e.getValue());
                }
            }
        }
        return changed == null ? req : req.toBuilder().setConfig(changed).build();
    }

    CreateContainerRequest createContainer(CriCall call, CreateContainerRequest req) throws CriRejection {
        PodSandboxConfig pod = req.getSandboxConfig();
        String handler = Optional.ofNullable(podHandlers.get(req.getPodSandboxId())).orElse("");
        PolicyRule.PodFacts facts = facts(pod, handler);
        ContainerConfig c = req.getConfig();
        LinuxContainerSecurityContext sc = c.getLinux().getSecurityContext();
        String subject = "container \"" + c.getMetadata().getName() + "\" of pod " + podName(pod);
        ContainerConfig.Builder changed = null;
        Long maxMem = null;
        Long maxCpu = null;
        for (PolicyRule r : applying(facts)) {
            PolicyRule.Deny d = r.deny();
            deny(r, d.privileged() && sc.getPrivileged(), subject, "privileged mode");
            denyNamespaces(r, d, sc.getNamespaceOptions(), subject);
            deny(r, d.runAsRoot() && (sc.hasRunAsUser() && sc.getRunAsUser().getValue() == 0
                    || sc.getRunAsUsername().equals("root")), subject, "to run as root");
            if (!d.capabilities().isEmpty()) {
                for (String cap : sc.getCapabilities().getAddCapabilitiesList()) {
                    String norm = cap.toUpperCase(java.util.Locale.ROOT).replaceFirst("^CAP_", "");
                    if (norm.equals("ALL") || d.capabilities().contains(norm)) {
                        throw reject(r, subject, "capability " + cap);
                    }
                }
            }
            PolicyRule.Add a = r.add();
            for (Map.Entry<String, String> e : a.labels().entrySet()) {
                if (!c.containsLabels(e.getKey()) && (changed == null || !changed.containsLabels(e.getKey()))) {
                    changed = changed == null ? c.toBuilder() : changed;
                    changed.putLabels(e.getKey(), e.getValue());
                }
            }
            for (Map.Entry<String, String> e : a.annotations().entrySet()) {
                if (!c.containsAnnotations(e.getKey()) && (changed == null || !changed.containsAnnotations(e.getKey()))) {
                    changed = changed == null ? c.toBuilder() : changed;
                    changed.putAnnotations(e.getKey(), e.getValue());
                }
            }
            if (!a.env().isEmpty()) {
                Set<String> have = new HashSet<>();
                (changed == null ? c.getEnvsList() : changed.getEnvsList()).forEach(kv -> have.add(kv.getKey()));
                for (Map.Entry<String, String> e : a.env().entrySet()) {
                    if (have.add(e.getKey())) {
                        changed = changed == null ? c.toBuilder() : changed;
                        changed.addEnvs(KeyValue.newBuilder().setKey(e.getKey())
                                .setValue(ByteString.copyFromUtf8(e.getValue())));
                    }
                }
            }
            maxMem = min(maxMem, r.limits().maxMemoryBytes());
            maxCpu = min(maxCpu, r.limits().maxCpuMillis());
        }
        if (maxMem != null || maxCpu != null) {
            LinuxContainerResources res = c.getLinux().getResources();
            LinuxContainerResources capped = cap(res, maxMem, maxCpu);
            if (!capped.equals(res)) {
                changed = changed == null ? c.toBuilder() : changed;
                changed.getLinuxBuilder().setResources(capped);
            }
        }
        return changed == null ? req : req.toBuilder().setConfig(changed).build();
    }

    UpdateContainerResourcesRequest updateResources(CriCall call, UpdateContainerResourcesRequest req) {
        if (!req.hasLinux()) {
            return req;
        }
        PolicyRule.PodFacts facts = containerPods.get(req.getContainerId());
        Long maxMem = null;
        Long maxCpu = null;
        for (PolicyRule r : rules) {
            if (facts == null || r.appliesTo(facts)) {
                maxMem = min(maxMem, r.limits().maxMemoryBytes());
                maxCpu = min(maxCpu, r.limits().maxCpuMillis());
            }
        }
        LinuxContainerResources capped = cap(req.getLinux(), maxMem, maxCpu);
        return capped.equals(req.getLinux()) ? req : req.toBuilder().setLinux(capped).build();
    }

    /** {@code res} with the memory limit and CPU quota at most the caps; unlimited becomes the cap. */
    static LinuxContainerResources cap(LinuxContainerResources res, Long maxMem, Long maxCpuMillis) {
        LinuxContainerResources.Builder b = res.toBuilder();
        if (maxMem != null && (res.getMemoryLimitInBytes() <= 0 || res.getMemoryLimitInBytes() > maxMem)) {
            b.setMemoryLimitInBytes(maxMem);
            if (res.getMemorySwapLimitInBytes() > 0 && res.getMemorySwapLimitInBytes() < maxMem) {
                b.setMemorySwapLimitInBytes(maxMem); // runc refuses memory+swap below memory
            }
        }
        if (maxCpuMillis != null) {
            long period = res.getCpuPeriod() > 0 ? res.getCpuPeriod() : 100_000;
            long capQuota = maxCpuMillis * period / 1000;
            if (res.getCpuQuota() <= 0 || res.getCpuQuota() > capQuota) {
                b.setCpuPeriod(period).setCpuQuota(capQuota);
            }
        }
        return b.build();
    }

    private List<PolicyRule> applying(PolicyRule.PodFacts facts) {
        List<PolicyRule> out = new ArrayList<>();
        for (PolicyRule r : rules) {
            if (r.appliesTo(facts)) {
                out.add(r);
            }
        }
        return out;
    }

    private static void denyNamespaces(PolicyRule r, PolicyRule.Deny d, NamespaceOption ns, String subject)
            throws CriRejection {
        deny(r, d.hostNetwork() && ns.getNetwork() == NamespaceMode.NODE, subject, "the host network");
        deny(r, d.hostPID() && ns.getPid() == NamespaceMode.NODE, subject, "the host PID namespace");
        deny(r, d.hostIPC() && ns.getIpc() == NamespaceMode.NODE, subject, "the host IPC namespace");
    }

    private static void deny(PolicyRule r, boolean asked, String subject, String what) throws CriRejection {
        if (asked) {
            throw reject(r, subject, what);
        }
    }

    private static CriRejection reject(PolicyRule r, String subject, String what) {
        String msg = "policy rule \"" + r.name() + "\": " + subject + " asks for " + what + ", which the rule denies";
        log.atInfo().addKeyValue("rule", r.name()).log("rejected: " + msg);
        return new CriRejection(Status.Code.PERMISSION_DENIED, msg);
    }

    private static PolicyRule.PodFacts facts(PodSandboxConfig pod, String handler) {
        return new PolicyRule.PodFacts(pod.getMetadata().getNamespace(), pod.getLabelsMap(), pod.getAnnotationsMap(),
                handler);
    }

    private static String podName(PodSandboxConfig pod) {
        return pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
    }

    private static Long min(Long a, Long b) {
        if (a == null) {
            return b;
        }
        return b == null ? a : Math.min(a, b);
    }

    /**
     * Settings: the rules, checked in order.
     *
     * @param rules at least one
     */
    record Settings(List<PolicyRule> rules) {
        Settings {
            Objects.requireNonNull(rules, "rules");
            rules = List.copyOf(rules);
            if (rules.isEmpty()) {
                throw new IllegalArgumentException("rules: a policy needs at least one rule");
            }
            Set<String> names = new HashSet<>();
            for (PolicyRule r : rules) {
                if (!names.add(r.name())) {
                    throw new IllegalArgumentException("rules: the name '" + r.name() + "' is used twice");
                }
            }
        }
    }

    /** Makes {@code policy} interceptors. */
    public static final class Provider implements CriInterceptorProvider {
        @Override
        public String type() {
            return "policy";
        }

        @Override
        public FailureMode defaultFailureMode() {
            return FailureMode.CLOSED;
        }

        @Override
        public CriInterceptor create(InterceptorContext context) throws ConfigException {
            return new PolicyInterceptor(context.settings(Settings.class).rules());
        }
    }
}
