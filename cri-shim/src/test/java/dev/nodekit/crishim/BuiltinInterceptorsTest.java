package dev.nodekit.crishim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;

import dev.nodekit.common.config.ConfigException;
import dev.nodekit.crishim.api.CriMethods;
import dev.nodekit.spec.cri.v1.Capability;
import dev.nodekit.spec.cri.v1.ContainerConfig;
import dev.nodekit.spec.cri.v1.ContainerMetadata;
import dev.nodekit.spec.cri.v1.CreateContainerRequest;
import dev.nodekit.spec.cri.v1.CreateContainerResponse;
import dev.nodekit.spec.cri.v1.ExecSyncRequest;
import dev.nodekit.spec.cri.v1.ExecSyncResponse;
import dev.nodekit.spec.cri.v1.ImageSpec;
import dev.nodekit.spec.cri.v1.Int64Value;
import dev.nodekit.spec.cri.v1.KeyValue;
import dev.nodekit.spec.cri.v1.LinuxContainerConfig;
import dev.nodekit.spec.cri.v1.LinuxContainerResources;
import dev.nodekit.spec.cri.v1.LinuxContainerSecurityContext;
import dev.nodekit.spec.cri.v1.LinuxPodSandboxConfig;
import dev.nodekit.spec.cri.v1.LinuxSandboxSecurityContext;
import dev.nodekit.spec.cri.v1.ListContainersRequest;
import dev.nodekit.spec.cri.v1.NamespaceMode;
import dev.nodekit.spec.cri.v1.NamespaceOption;
import dev.nodekit.spec.cri.v1.PodSandboxConfig;
import dev.nodekit.spec.cri.v1.PodSandboxMetadata;
import dev.nodekit.spec.cri.v1.RunPodSandboxRequest;
import dev.nodekit.spec.cri.v1.RunPodSandboxResponse;
import dev.nodekit.spec.cri.v1.StartContainerRequest;
import dev.nodekit.spec.cri.v1.StatusRequest;
import dev.nodekit.spec.cri.v1.UpdateContainerResourcesRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** audit, metrics and policy through a shim in front of a fake runtime. */
class BuiltinInterceptorsTest {
    @TempDir
    Path dir;

    ShimHarness h;
    FakeCri runtime;

    @BeforeEach
    void fake() throws Exception {
        h = new ShimHarness(dir);
        runtime = h.fake("rt");
        runtime.on(CriMethods.RUN_POD_SANDBOX, r -> FakeCri.Reply.ok(
                RunPodSandboxResponse.newBuilder().setPodSandboxId("pod-1").build()));
        runtime.on(CriMethods.CREATE_CONTAINER, r -> FakeCri.Reply.ok(
                CreateContainerResponse.newBuilder().setContainerId("ctr-1").build()));
        runtime.on(CriMethods.EXEC_SYNC, r -> FakeCri.Reply.ok(ExecSyncResponse.newBuilder().setExitCode(3).build()));
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    static PodSandboxConfig pod(String ns, String name) {
        return PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setNamespace(ns).setUid(name + "-uid"))
                .putLabels("app", name).build();
    }

    static CreateContainerRequest container(PodSandboxConfig pod, ContainerConfig.Builder c) {
        return CreateContainerRequest.newBuilder().setPodSandboxId("pod-1").setSandboxConfig(pod)
                .setConfig(c.setMetadata(ContainerMetadata.newBuilder().setName("app"))
                        .setImage(ImageSpec.newBuilder().setImage("localhost/busybox:1"))).build();
    }

    // ---- audit -------------------------------------------------------------------------------

    @Test
    void auditWritesOneJsonLinePerLifecycleCallWithIdsImageOutcomeAndRedactedSecrets() throws Exception {
        Path log = dir.resolve("audit/cri.jsonl");
        h.start(Optional.of(runtime.endpoint()), """
                interceptors:
                  - type: audit
                    settings:
                      output: %s
                      secretValues: ["sk_live_[a-z0-9]+"]
                """.formatted(log));
        h.runtime().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(pod("shop", "web"))
                .setRuntimeHandler("runc").build());
        h.runtime().createContainer(container(pod("shop", "web"), ContainerConfig.newBuilder()
                .addEnvs(kv("DB_PASSWORD", "hunter2")).addEnvs(kv("MODE", "prod"))
                .addEnvs(kv("STRIPE", "key is sk_live_abc123"))
                .addEnvs(kv("GITHUB_TOKEN", "ghp_x"))));
        h.runtime().startContainer(StartContainerRequest.newBuilder().setContainerId("ctr-1").build());
        h.runtime().execSync(ExecSyncRequest.newBuilder().setContainerId("ctr-1").addCmd("sh").addCmd("-c")
                .addCmd("curl -H 'x' --data password=swordfish").build());
        runtime.on(CriMethods.STOP_CONTAINER, r -> FakeCri.Reply.error(Status.NOT_FOUND.withDescription("gone"),
                new io.grpc.Metadata()));
        assertThatThrownBy(() -> h.runtime().stopContainer(
                dev.nodekit.spec.cri.v1.StopContainerRequest.newBuilder().setContainerId("ctr-1").setTimeout(30).build()))
                .isInstanceOf(StatusRuntimeException.class);
        h.runtime().listContainers(ListContainersRequest.getDefaultInstance()); // not audited
        h.runtime().status(StatusRequest.getDefaultInstance()); // not audited

        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(log)
                && Files.readAllLines(log).size() == 5);
        ObjectMapper m = new ObjectMapper();
        // lines are written as calls complete, off the call path: order by method, not by position
        Map<String, JsonNode> byMethod = new java.util.HashMap<>();
        for (String l : Files.readAllLines(log)) {
            JsonNode n = m.readTree(l);
            byMethod.put(n.get("method").asText(), n);
        }
        assertThat(byMethod).containsOnlyKeys("RunPodSandbox", "CreateContainer", "StartContainer", "ExecSync",
                "StopContainer");
        List<String> lines = Files.readAllLines(log);
        JsonNode run = byMethod.get("RunPodSandbox");
        assertThat(run.get("method").asText()).isEqualTo("RunPodSandbox");
        assertThat(run.get("code").asText()).isEqualTo("OK");
        assertThat(run.get("pod_sandbox_id").asText()).isEqualTo("pod-1");
        assertThat(run.get("namespace").asText()).isEqualTo("shop");
        assertThat(run.get("pod").asText()).isEqualTo("web");
        assertThat(run.get("runtime_handler").asText()).isEqualTo("runc");
        assertThat(run.get("upstream").asText()).isEqualTo("default");

        JsonNode create = byMethod.get("CreateContainer");
        assertThat(create.get("container_id").asText()).isEqualTo("ctr-1");
        assertThat(create.get("image").asText()).isEqualTo("localhost/busybox:1");
        assertThat(create.get("env").get("DB_PASSWORD").asText()).isEqualTo("***");
        assertThat(create.get("env").get("GITHUB_TOKEN").asText()).isEqualTo("***");
        assertThat(create.get("env").get("STRIPE").asText()).isEqualTo("***");
        assertThat(create.get("env").get("MODE").asText()).isEqualTo("prod");

        JsonNode start = byMethod.get("StartContainer");
        assertThat(start.get("method").asText()).isEqualTo("StartContainer");
        assertThat(start.get("namespace").asText()).isEqualTo("shop"); // remembered from CreateContainer
        assertThat(start.get("image").asText()).isEqualTo("localhost/busybox:1");

        JsonNode exec = byMethod.get("ExecSync");
        assertThat(exec.get("exit_code").asInt()).isEqualTo(3);
        assertThat(exec.get("command").toString()).isEqualTo("[\"sh\",\"-c\",\"***\"]");

        JsonNode stop = byMethod.get("StopContainer");
        assertThat(stop.get("code").asText()).isEqualTo("NOT_FOUND");
        assertThat(stop.get("message").asText()).isEqualTo("gone");
        assertThat(String.join("\n", lines)).doesNotContain("hunter2", "sk_live_abc123", "swordfish", "ghp_x");
    }

    @Test
    void auditSettingsAreCheckedWithTheFileAndLine() {
        assertThatThrownBy(() -> h.start(Optional.of(runtime.endpoint()), """
                interceptors:
                  - type: audit
                    settings:
                      methods: [RunPodSandbox, Frobnicate]
                """)).isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.getMessage()).startsWith("test-config.yaml:4:");
                    assertThat(e.fieldPath()).isEqualTo("interceptors[0].settings.methods");
                    assertThat(e.detail()).contains("'Frobnicate' is not a CRI v1 RPC");
                });
    }

    private static KeyValue kv(String k, String v) {
        return KeyValue.newBuilder().setKey(k).setValue(ByteString.copyFromUtf8(v)).build();
    }

    // ---- metrics -----------------------------------------------------------------------------

    @Test
    void metricsCountEveryCallByMethodCodeAndOriginAndShowUpstreamHealth() throws Exception {
        h.start(Optional.of(runtime.endpoint()), null); // the default chain is [metrics]
        for (int i = 0; i < 3; i++) {
            h.runtime().listContainers(ListContainersRequest.getDefaultInstance());
        }
        runtime.on(CriMethods.STATUS, r -> FakeCri.Reply.error(Status.INTERNAL, new io.grpc.Metadata()));
        assertThatThrownBy(() -> h.runtime().status(StatusRequest.getDefaultInstance()));
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> h.shim.upstreams().get(0).isUp());
        String text = h.metrics.scrapeText();
        assertThat(text).contains("cri_shim_rpc_duration_seconds_count{code=\"OK\",method=\"ListContainers\"} 3");
        assertThat(text).contains("cri_shim_rpc_errors_total{code=\"INTERNAL\",method=\"Status\",origin=\"upstream\"} 1.0");
        assertThat(text).contains("cri_shim_upstream_up{upstream=\"default\"} 1.0");

        runtime.stop();
        Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThatThrownBy(
                () -> h.runtime().listContainers(ListContainersRequest.getDefaultInstance())));
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> h.metrics.scrapeText()
                .contains("cri_shim_upstream_up{upstream=\"default\"} 0.0"));
        assertThat(h.metrics.scrapeText()).contains(
                "cri_shim_rpc_errors_total{code=\"UNAVAILABLE\",method=\"ListContainers\",origin=\"transport\"}");
    }

    // ---- policy ------------------------------------------------------------------------------

    static final String POLICY = """
            interceptors:
              - type: policy
                settings:
                  rules:
                    - name: no-privileged
                      except:
                        - {namespaces: [kube-system]}
                        - {annotations: {"policy.nodekit.dev/privileged": "allowed"}}
                      deny: {privileged: true, hostNetwork: true, capabilities: [SYS_ADMIN]}
                    - name: team-defaults
                      match: {namespaces: ["team-*"]}
                      add: {labels: {cost-center: shared}, annotations: {audited: "yes"}, env: {TZ: UTC, MODE: default}}
                      limits: {maxMemoryBytes: 268435456, maxCpuMillis: 500}
            """;

    @Test
    void policyRejectsPrivilegedContainersAndHostNetworkPodsNamingTheRuleExceptWhereAllowed() throws Exception {
        h.start(Optional.of(runtime.endpoint()), POLICY);
        ContainerConfig.Builder privileged = ContainerConfig.newBuilder().setLinux(LinuxContainerConfig.newBuilder()
                .setSecurityContext(LinuxContainerSecurityContext.newBuilder().setPrivileged(true)));
        assertThatThrownBy(() -> h.runtime().createContainer(container(pod("default", "web"), privileged)))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).isEqualTo("policy rule \"no-privileged\": container "
                            + "\"app\" of pod default/web asks for privileged mode, which the rule denies");
                });
        ContainerConfig.Builder sysAdmin = ContainerConfig.newBuilder().setLinux(LinuxContainerConfig.newBuilder()
                .setSecurityContext(LinuxContainerSecurityContext.newBuilder()
                        .setCapabilities(Capability.newBuilder().addAddCapabilities("CAP_SYS_ADMIN"))));
        assertThatThrownBy(() -> h.runtime().createContainer(container(pod("default", "web"), sysAdmin)))
                .hasMessageContaining("capability CAP_SYS_ADMIN");
        PodSandboxConfig hostNet = pod("default", "net").toBuilder().setLinux(LinuxPodSandboxConfig.newBuilder()
                .setSecurityContext(LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(
                        NamespaceOption.newBuilder().setNetwork(NamespaceMode.NODE)))).build();
        assertThatThrownBy(() -> h.runtime().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(hostNet).build()))
                .hasMessageContaining("pod default/net asks for the host network");
        assertThat(runtime.received(CriMethods.CREATE_CONTAINER)).isEmpty();
        assertThat(runtime.received(CriMethods.RUN_POD_SANDBOX)).isEmpty();

        h.runtime().createContainer(container(pod("kube-system", "proxy"), privileged));
        PodSandboxConfig allowed = pod("default", "dbg").toBuilder()
                .putAnnotations("policy.nodekit.dev/privileged", "allowed").build();
        h.runtime().createContainer(container(allowed, privileged));
        assertThat(runtime.received(CriMethods.CREATE_CONTAINER)).hasSize(2);
    }

    @Test
    void policyAddsLabelsAnnotationsAndEnvWithoutOverridingAndCapsResources() throws Exception {
        h.start(Optional.of(runtime.endpoint()), POLICY);
        ContainerConfig.Builder c = ContainerConfig.newBuilder().addEnvs(kv("MODE", "mine"))
                .setLinux(LinuxContainerConfig.newBuilder().setResources(LinuxContainerResources.newBuilder()
                        .setMemoryLimitInBytes(1L << 30).setCpuPeriod(100_000).setCpuQuota(200_000)));
        h.runtime().createContainer(container(pod("team-a", "api"), c));
        CreateContainerRequest got = runtime.received(CriMethods.CREATE_CONTAINER).get(0)
                .parsed(CriMethods.CREATE_CONTAINER);
        assertThat(got.getConfig().getLabelsMap()).containsEntry("cost-center", "shared");
        assertThat(got.getConfig().getAnnotationsMap()).containsEntry("audited", "yes");
        assertThat(got.getConfig().getEnvsList()).extracting(KeyValue::getKey, kv -> kv.getValue().toStringUtf8())
                .containsExactly(org.assertj.core.groups.Tuple.tuple("MODE", "mine"),
                        org.assertj.core.groups.Tuple.tuple("TZ", "UTC"));
        LinuxContainerResources res = got.getConfig().getLinux().getResources();
        assertThat(res.getMemoryLimitInBytes()).isEqualTo(268435456L);
        assertThat(res.getCpuQuota()).isEqualTo(50_000);
        assertThat(res.getCpuPeriod()).isEqualTo(100_000);

        h.runtime().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(pod("team-b", "w")).build());
        assertThat(runtime.received(CriMethods.RUN_POD_SANDBOX).get(0).parsed(CriMethods.RUN_POD_SANDBOX)
                .getConfig().getLabelsMap()).containsEntry("cost-center", "shared").containsEntry("app", "w");

        // In-place resize of the container created above: capped like at creation.
        h.runtime().updateContainerResources(UpdateContainerResourcesRequest.newBuilder().setContainerId("ctr-1")
                .setLinux(LinuxContainerResources.newBuilder().setMemoryLimitInBytes(8L << 30)).build());
        assertThat(runtime.received(CriMethods.UPDATE_CONTAINER_RESOURCES).get(0)
                .parsed(CriMethods.UPDATE_CONTAINER_RESOURCES).getLinux().getMemoryLimitInBytes()).isEqualTo(268435456L);

        // Outside team-*: untouched, and not even re-encoded.
        h.runtime().createContainer(container(pod("other", "x"), ContainerConfig.newBuilder()));
        CreateContainerRequest untouched = runtime.received(CriMethods.CREATE_CONTAINER).get(1)
                .parsed(CriMethods.CREATE_CONTAINER);
        assertThat(untouched.getConfig().getLabelsMap()).isEmpty();
        assertThat(untouched.getConfig().getEnvsList()).isEmpty();
    }

    @Test
    void policyRulesAreValidated() {
        assertThatThrownBy(() -> h.start(Optional.of(runtime.endpoint()), """
                interceptors:
                  - type: policy
                    settings:
                      rules:
                        - name: nothing
                """)).isInstanceOfSatisfying(ConfigException.class,
                        e -> assertThat(e.getMessage()).contains("rule 'nothing' has no effect"));
        assertThatThrownBy(() -> h.start(Optional.of(runtime.endpoint()), """
                interceptors:
                  - type: policy
                    settings:
                      rules:
                        - name: r
                          deny: {privileged: true, hostNetwrk: true}
                """)).isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.getMessage()).startsWith("test-config.yaml:6:");
                    assertThat(e.detail()).contains("unknown field 'hostNetwrk'");
                });
    }

    @Test
    void policyFailsClosedByDefault() {
        assertThat(new dev.nodekit.crishim.builtin.PolicyInterceptor.Provider().defaultFailureMode())
                .isEqualTo(dev.nodekit.crishim.api.FailureMode.CLOSED);
        assertThat(Map.of("audit", new dev.nodekit.crishim.builtin.AuditInterceptor.Provider().defaultFailureMode()))
                .containsEntry("audit", dev.nodekit.crishim.api.FailureMode.OPEN);
    }

    @Test
    void runAsRootIsDeniedOnlyWhenExplicit() throws Exception {
        h.start(Optional.of(runtime.endpoint()), """
                interceptors:
                  - type: policy
                    settings:
                      rules:
                        - {name: non-root, deny: {runAsRoot: true}}
                """);
        ContainerConfig.Builder root = ContainerConfig.newBuilder().setLinux(LinuxContainerConfig.newBuilder()
                .setSecurityContext(LinuxContainerSecurityContext.newBuilder()
                        .setRunAsUser(Int64Value.newBuilder().setValue(0))));
        assertThatThrownBy(() -> h.runtime().createContainer(container(pod("a", "b"), root)))
                .hasMessageContaining("non-root").hasMessageContaining("to run as root");
        h.runtime().createContainer(container(pod("a", "b"), ContainerConfig.newBuilder()));
    }
}
