package dev.nodekit.crishim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.crishim.api.CallOutcome;
import dev.nodekit.crishim.api.CriInterceptor;
import dev.nodekit.crishim.api.CriMethods;
import dev.nodekit.crishim.api.CriRejection;
import dev.nodekit.crishim.api.Hooks;
import dev.nodekit.spec.cri.v1.ContainerMetadata;
import dev.nodekit.spec.cri.v1.CreateContainerRequest;
import dev.nodekit.spec.cri.v1.ContainerConfig;
import dev.nodekit.spec.cri.v1.ListContainersRequest;
import dev.nodekit.spec.cri.v1.StartContainerRequest;
import dev.nodekit.spec.cri.v1.VersionRequest;
import dev.nodekit.spec.cri.v1.VersionResponse;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;

/** Order, mutation, rejection, fail-open and fail-closed with time budgets, observers, what gets decoded. */
class InterceptorChainTest {
    @TempDir
    Path dir;

    ShimHarness h;
    FakeCri runtime;
    final List<String> trace = new CopyOnWriteArrayList<>();

    @BeforeEach
    void fake() throws Exception {
        h = new ShimHarness(dir);
        runtime = h.fake("rt");
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    /** An interceptor that appends its name to Version's runtime_version on the way out and traces its hooks. */
    private CriInterceptor tracing(String name) {
        return hooks -> hooks
                .before(CriMethods.VERSION, (call, req) -> {
                    trace.add(name + ".before");
                    return req.toBuilder().setVersion(req.getVersion() + name).build();
                })
                .after(CriMethods.VERSION, (call, req, resp) -> {
                    trace.add(name + ".after");
                    return resp.toBuilder().setRuntimeVersion(resp.getRuntimeVersion() + "+" + name).build();
                });
    }

    private void startWith(String chainYaml) throws Exception {
        h.start(Optional.of(runtime.endpoint()), "interceptors:\n" + chainYaml);
    }

    @Test
    void beforeHooksRunInChainOrderAfterHooksInReverseAndEachSeesThePreviousChange() throws Exception {
        TestInterceptors.define("a", tracing("a"));
        TestInterceptors.define("b", tracing("b"));
        startWith("  - {type: test, name: a}\n  - {type: test, name: b}\n");
        VersionResponse v = h.runtime().version(VersionRequest.newBuilder().setVersion("v").build());
        assertThat(trace).containsExactly("a.before", "b.before", "b.after", "a.after");
        assertThat(runtime.received(CriMethods.VERSION).get(0).parsed(CriMethods.VERSION).getVersion()).isEqualTo("vab");
        assertThat(v.getRuntimeVersion()).isEqualTo("1.0.0-fake+b+a");
    }

    @Test
    void aRejectionEndsTheCallWithItsStatusAndTheRuntimeNeverSeesIt() throws Exception {
        TestInterceptors.define("deny", hooks -> hooks.before(CriMethods.CREATE_CONTAINER, (call, req) -> {
            throw new CriRejection(Status.Code.PERMISSION_DENIED, "rule X: no");
        }));
        TestInterceptors.define("later", tracing("later"));
        startWith("  - {type: test, name: deny}\n");
        assertThatThrownBy(() -> h.runtime().createContainer(CreateContainerRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).isEqualTo("rule X: no");
                });
        assertThat(runtime.received(CriMethods.CREATE_CONTAINER)).isEmpty();
        assertThat(h.metrics.scrapeText()).contains(
                "cri_shim_interceptor_rejections_total{interceptor=\"deny\",method=\"CreateContainer\"} 1.0");
    }

    @Test
    void aFailOpenInterceptorThatThrowsIsSkippedAndTheOthersStillApply() throws Exception {
        TestInterceptors.define("broken", hooks -> hooks.before(CriMethods.VERSION, (call, req) -> {
            throw new IllegalStateException("bug in plugin");
        }));
        TestInterceptors.define("b", tracing("b"));
        startWith("  - {type: test, name: broken, failure: open}\n  - {type: test, name: b}\n");
        VersionResponse v = h.runtime().version(VersionRequest.newBuilder().setVersion("v").build());
        assertThat(v.getRuntimeVersion()).isEqualTo("1.0.0-fake+b");
        assertThat(runtime.received(CriMethods.VERSION).get(0).parsed(CriMethods.VERSION).getVersion()).isEqualTo("vb");
        assertThat(h.metrics.scrapeText()).contains("cri_shim_interceptor_failures_total{interceptor=\"broken\","
                + "method=\"Version\",reason=\"error\",stage=\"before\"} 1.0");
    }

    @Test
    void aFailClosedInterceptorThatThrowsFailsTheCallWithAStatusNamingIt() throws Exception {
        TestInterceptors.define("strict", hooks -> hooks.before(CriMethods.VERSION, (call, req) -> {
            throw new IllegalStateException("policy store unreachable");
        }));
        startWith("  - {type: test, name: strict, failure: closed}\n");
        assertThatThrownBy(() -> h.runtime().version(VersionRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
                    assertThat(e.getStatus().getDescription()).contains("interceptor 'strict' failed (fail-closed)")
                            .contains("Version before").contains("policy store unreachable");
                });
        assertThat(runtime.received(CriMethods.VERSION)).isEmpty();
    }

    @Test
    void aHookOverItsBudgetIsAbandonedOpenOrClosed() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        Hooks.BeforeHook<VersionRequest> hang = (call, req) -> {
            try {
                never.await(); // ignores the budget; the shim must not wait for it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return req.toBuilder().setVersion("changed-too-late").build();
        };
        TestInterceptors.define("slow-open", hooks -> hooks.before(CriMethods.VERSION, hang));
        startWith("  - {type: test, name: slow-open, failure: open, budget: 100ms}\n");
        long t0 = System.nanoTime();
        assertThat(h.runtime().version(VersionRequest.newBuilder().setVersion("orig").build()).getRuntimeName())
                .isEqualTo("rt");
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(100)).isLessThan(Duration.ofSeconds(2));
        assertThat(runtime.received(CriMethods.VERSION).get(0).parsed(CriMethods.VERSION).getVersion()).isEqualTo("orig");
        h.shim.close();

        TestInterceptors.define("slow-closed", hooks -> hooks.before(CriMethods.VERSION, hang));
        h.start(h.shim.config().withInterceptors(List.of(new InterceptorConfig("test", "slow-closed",
                dev.nodekit.crishim.api.FailureMode.CLOSED, Duration.ofMillis(100), null))));
        t0 = System.nanoTime();
        assertThatThrownBy(() -> h.runtime().version(VersionRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).contains("slow-closed").contains("budget of 100ms");
                });
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
        assertThat(runtime.received(CriMethods.VERSION)).hasSize(1); // only the fail-open round reached it
    }

    @Test
    void afterHooksCanRejectAndAResponseHookFailingOpenLeavesTheResponseAlone() throws Exception {
        TestInterceptors.define("hide", hooks -> hooks.after(CriMethods.START_CONTAINER, (call, req, resp) -> {
            throw new CriRejection(Status.Code.ABORTED, "not today");
        }));
        TestInterceptors.define("oops", hooks -> hooks.after(CriMethods.VERSION, (call, req, resp) -> null));
        startWith("  - {type: test, name: hide}\n  - {type: test, name: oops}\n");
        assertThatThrownBy(() -> h.runtime().startContainer(StartContainerRequest.newBuilder().setContainerId("c").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ABORTED));
        assertThat(h.runtime().version(VersionRequest.getDefaultInstance()).getRuntimeVersion()).isEqualTo("1.0.0-fake");
    }

    @Test
    void hooksSeeHeadersDeadlineAndUpstreamAndCompletionHooksSeeTheOutcome() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        List<CallOutcome> outcomes = new CopyOnWriteArrayList<>();
        TestInterceptors.define("look", hooks -> hooks
                .before(CriMethods.CREATE_CONTAINER, (call, req) -> {
                    seen.add("trace=" + call.header("traceparent").orElse("-"));
                    seen.add("deadline=" + call.timeRemaining().map(d -> d.getSeconds() > 0).orElse(false));
                    seen.add("upstream-before=" + call.upstream().orElse("-"));
                    return req;
                })
                .after(CriMethods.CREATE_CONTAINER, (call, req, resp) -> {
                    seen.add("upstream-after=" + call.upstream().orElse("-"));
                    seen.add("name=" + req.getConfig().getMetadata().getName());
                    return resp;
                })
                .completed(CriMethods.CREATE_CONTAINER, (call, req, resp, outcome) -> {
                    seen.add("completed=" + resp.isPresent() + "," + outcome.code());
                    outcomes.add(outcome);
                }));
        startWith("  - {type: test, name: look}\n");
        Metadata m = new Metadata();
        m.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER), "t-1");
        h.runtime().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m)).createContainer(
                CreateContainerRequest.newBuilder().setConfig(ContainerConfig.newBuilder()
                        .setMetadata(ContainerMetadata.newBuilder().setName("app"))).build());
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> outcomes.size() == 1);
        assertThat(seen).containsExactly("trace=t-1", "deadline=true", "upstream-before=-", "upstream-after=default",
                "name=app", "completed=true,OK");
        assertThat(outcomes.get(0).upstreams()).containsExactly("default");
        assertThat(outcomes.get(0).origin()).isEqualTo(CallOutcome.Origin.UPSTREAM);
    }

    @Test
    void observersSeeEveryCallIncludingRawAndUnknownOnesAndOnlyHookedMethodsAreDecoded() throws Exception {
        List<String> observed = new CopyOnWriteArrayList<>();
        TestInterceptors.define("watch", hooks -> hooks
                .everyCall(o -> observed.add(o.shortMethod() + ":" + o.code() + ":" + o.origin()))
                .before(CriMethods.START_CONTAINER, (call, req) -> req));
        startWith("  - {type: test, name: watch}\n");
        h.runtime().listContainers(ListContainersRequest.getDefaultInstance());
        h.runtime().startContainer(StartContainerRequest.newBuilder().setContainerId("c").build());
        assertThatThrownBy(() -> h.raw(ShimHarness.rawMethod("runtime.v1.RuntimeService/FutureCall",
                MethodDescriptor.MethodType.UNARY), new byte[0])).isInstanceOf(StatusRuntimeException.class);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> observed.size() == 3);
        assertThat(observed).containsExactly("ListContainers:OK:UPSTREAM", "StartContainer:OK:UPSTREAM",
                "FutureCall:UNIMPLEMENTED:UPSTREAM");
        assertThat(h.shim.plans()).filteredOn(p -> !p.passThrough()).extracting(MethodPlan::fullName)
                .containsExactly(CriMethods.START_CONTAINER.fullName());
    }

    @Test
    void anUnchangedRequestIsForwardedAsTheOriginalBytes() throws Exception {
        TestInterceptors.define("id", hooks -> hooks.before(CriMethods.START_CONTAINER, (call, req) -> req));
        startWith("  - {type: test, name: id}\n");
        // An unknown field survives decoding too; identity means not even re-encoded.
        byte[] request = concat(StartContainerRequest.newBuilder().setContainerId("c").build().toByteArray(),
                FakeCri.field(777, new byte[] {9, 9}));
        h.raw(ShimHarness.rawMethod(CriMethods.START_CONTAINER.fullName(), MethodDescriptor.MethodType.UNARY), request);
        assertThat(runtime.received(CriMethods.START_CONTAINER).get(0).request()).isEqualTo(request);
    }

    @Test
    void aNameUsedTwiceOrAnUnknownTypeIsRefusedAtStart() {
        assertThatThrownBy(() -> startWith("  - {type: metrics}\n  - {type: metrics}\n"))
                .hasMessageContaining("the name 'metrics' is used twice");
        assertThatThrownBy(() -> startWith("  - {type: nosuch}\n"))
                .isInstanceOf(CriShimException.class)
                .hasMessageContaining("test-config.yaml: interceptors[0].type: no interceptor type 'nosuch'")
                .hasMessageContaining("audit, metrics, policy, test");
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static void sleep(long ms) throws InterruptedException {
        TimeUnit.MILLISECONDS.sleep(ms);
    }
}
