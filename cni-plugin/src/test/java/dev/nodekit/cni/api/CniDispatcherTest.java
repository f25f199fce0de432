package dev.nodekit.cni.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.CniVersion;
import dev.nodekit.spec.cni.Interface;
import dev.nodekit.spec.cni.IpConfig;
import dev.nodekit.spec.cni.Result;
import dev.nodekit.spec.cni.Route;
import dev.nodekit.spec.cni.VersionInfo;

class CniDispatcherTest {
    static final String CONF = "{\"cniVersion\":\"%s\",\"name\":\"net1\",\"type\":\"fake\"}";

    @TempDir
    Path dir;
    Path ownNetns;
    Path podNetns;
    FakePlugin plugin;
    ByteArrayOutputStream out;
    ByteArrayOutputStream err;

    @BeforeEach
    void setUp() throws Exception {
        ownNetns = Files.writeString(dir.resolve("own"), "");
        podNetns = Files.writeString(dir.resolve("pod"), "");
        plugin = new FakePlugin();
        out = new ByteArrayOutputStream();
        err = new ByteArrayOutputStream();
    }

    Map<String, String> env(String command) {
        Map<String, String> e = new HashMap<>();
        e.put("CNI_COMMAND", command);
        e.put("CNI_CONTAINERID", "c1");
        e.put("CNI_NETNS", podNetns.toString());
        e.put("CNI_IFNAME", "eth0");
        e.put("CNI_PATH", "/opt/cni/bin");
        return e;
    }

    int run(Map<String, String> env, String stdin) {
        return new CniDispatcher(plugin, ownNetns).run(env, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                out, err);
    }

    CniError error() throws CniException {
        return CniError.parse(out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void addPrintsTheResultInTheRequestedVersion() throws Exception {
        plugin.result = Result.of(CniVersion.V1_1_0,
                List.of(Interface.host("cni0", "0a:58:0a:58:00:01").withMtu(1450),
                        Interface.container("eth0", "c2:11:22:33:44:55", podNetns.toString())),
                List.of(IpConfig.of("10.22.0.5/24", "10.22.0.1").withInterface(1)),
                List.of(Route.of("0.0.0.0/0")), Optional.empty());
        assertThat(run(env("ADD"), String.format(CONF, "0.3.1"))).isZero();
        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(printed).contains("\"cniVersion\":\"0.3.1\"").contains("\"version\":\"4\"")
                .doesNotContain("mtu");
        Result back = Result.parse(printed);
        assertThat(back.ips().get(0).address()).isEqualTo("10.22.0.5/24");
        assertThat(plugin.calls).containsExactly("ADD c1 eth0 " + podNetns);
        assertThat(plugin.lastRequest.args()).isEqualTo(CniArgs.EMPTY);
        assertThat(plugin.lastRequest.cniPath()).containsExactly(Path.of("/opt/cni/bin"));
    }

    @Test
    void delCheckStatusGcPrintNothingOnSuccess() throws Exception {
        assertThat(run(env("DEL"), String.format(CONF, "1.0.0"))).isZero();
        assertThat(run(env("CHECK"), String.format(CONF, "1.0.0"))).isZero();
        Map<String, String> status = new HashMap<>();
        status.put("CNI_COMMAND", "STATUS");
        status.put("CNI_PATH", "/opt/cni/bin");
        assertThat(run(status, String.format(CONF, "1.1.0"))).isZero();
        status.put("CNI_COMMAND", "GC");
        assertThat(run(status, String.format(CONF, "1.1.0"))).isZero();
        assertThat(out.size()).isZero();
        assertThat(plugin.calls).containsExactly("DEL c1 eth0 " + podNetns, "CHECK c1 eth0 " + podNetns,
                "STATUS - - -", "GC - - -");
    }

    @Test
    void missingVariablesAreReportedTogetherWithCode4() throws Exception {
        Map<String, String> e = new HashMap<>();
        e.put("CNI_COMMAND", "ADD");
        assertThat(run(e, String.format(CONF, "1.0.0"))).isEqualTo(1);
        CniError error = error();
        assertThat(error.code()).isEqualTo(CniError.INVALID_ENVIRONMENT_VARIABLES);
        assertThat(error.msg()).isEqualTo("required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing");
        assertThat(plugin.calls).isEmpty();
    }

    @Test
    void delDoesNotNeedANetns() throws Exception {
        Map<String, String> e = env("DEL");
        e.remove("CNI_NETNS");
        assertThat(run(e, String.format(CONF, "1.0.0"))).isZero();
        assertThat(plugin.calls).containsExactly("DEL c1 eth0 -");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-abc", "a b", "a/b", "ä"})
    void malformedContainerIdIsCode4(String id) throws Exception {
        Map<String, String> e = env("ADD");
        e.put("CNI_CONTAINERID", id);
        assertThat(run(e, String.format(CONF, "1.0.0"))).isEqualTo(1);
        assertThat(error().code()).isEqualTo(4);
    }

    @Test
    void malformedIfnameArgsAndNetnsAreCode4() throws Exception {
        Map<String, String> e = env("ADD");
        e.put("CNI_IFNAME", "this-name-is-too-long");
        assertThat(run(e, String.format(CONF, "1.0.0"))).isEqualTo(1);
        assertThat(error().code()).isEqualTo(4);
        out.reset();
        e = env("ADD");
        e.put("CNI_ARGS", "IgnoreUnknown=1;garbage");
        assertThat(run(e, String.format(CONF, "1.0.0"))).isEqualTo(1);
        assertThat(error().msg()).contains("garbage");
        out.reset();
        e = env("ADD");
        e.put("CNI_NETNS", "relative/path");
        assertThat(run(e, String.format(CONF, "1.0.0"))).isEqualTo(1);
        assertThat(error().code()).isEqualTo(4);
    }

    @Test
    void unknownCommandIsCode4() throws Exception {
        assertThat(run(env("FROB"), String.format(CONF, "1.0.0"))).isEqualTo(1);
        assertThat(error().code()).isEqualTo(4);
        assertThat(error().msg()).isEqualTo("unknown CNI_COMMAND: FROB");
    }

    @Test
    void noCommandPrintsAboutOnStderrAndExitsZero() {
        assertThat(run(Map.of(), "")).isZero();
        assertThat(out.size()).isZero();
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("fake plugin")
                .contains("CNI protocol versions supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0");
    }

    @Test
    void versionAnswersWithoutReadingStdin() throws Exception {
        Map<String, String> e = new HashMap<>();
        e.put("CNI_COMMAND", "VERSION");
        assertThat(run(e, "not json at all")).isZero();
        VersionInfo v = VersionInfo.parse(out.toString(StandardCharsets.UTF_8));
        assertThat(v.cniVersion()).isEqualTo(CniVersion.V1_1_0);
        assertThat(v.supportedVersions()).isEqualTo(CniPlugin.DEFAULT_VERSIONS);
    }

    @Test
    void versionNegotiation() throws Exception {
        assertThat(run(env("ADD"), String.format(CONF, "0.2.0"))).isEqualTo(1);
        CniError e = error();
        assertThat(e.code()).isEqualTo(CniError.INCOMPATIBLE_CNI_VERSION);
        assertThat(e.details()).hasValueSatisfying(d -> assertThat(d).contains("0.2.0").contains("1.1.0"));
        out.reset();
        assertThat(run(env("ADD"), String.format(CONF, "2.0.0"))).isEqualTo(1);
        assertThat(error().code()).isEqualTo(1);
        out.reset();
        assertThat(run(env("CHECK"), String.format(CONF, "0.3.1"))).isEqualTo(1);
        assertThat(error().msg()).isEqualTo("config version does not allow CHECK");
        out.reset();
        Map<String, String> status = env("STATUS");
        assertThat(run(status, String.format(CONF, "1.0.0"))).isEqualTo(1);
        assertThat(error().code()).isEqualTo(1);
        assertThat(error().cniVersion()).hasValue(CniVersion.V1_0_0);
        assertThat(plugin.calls).isEmpty();
    }

    @Test
    void undecodableInputIsCode6AndAnInvalidConfigCode7() throws Exception {
        assertThat(run(env("ADD"), "{\"cniVersion\":\"1.0.0\",")).isEqualTo(1);
        assertThat(error().code()).isEqualTo(CniError.DECODING_FAILURE);
        assertThat(error().cniVersion()).hasValue(CniVersion.LATEST);
        out.reset();
        assertThat(run(env("ADD"), "{\"cniVersion\":\"1.0.0\",\"type\":\"fake\"}")).isEqualTo(1);
        assertThat(error().code()).isEqualTo(CniError.INVALID_NETWORK_CONFIG);
        assertThat(error().msg()).isEqualTo("missing network name");
        out.reset();
        assertThat(run(env("ADD"), "{\"cniVersion\":\"1.0.0\",\"name\":\"net1\",\"type\":\"fake\",\"ipMasq\":\"yes\"}"))
                .isEqualTo(1);
        assertThat(error().code()).isEqualTo(CniError.DECODING_FAILURE);
        assertThat(error().msg()).contains("ipMasq");
    }

    @Test
    void pluginErrorsAreErrorObjectsOnStdoutAndLogsStayOffIt() throws Exception {
        plugin.fail = new CniException(CniError.TRY_AGAIN_LATER, "lock busy", "held by pid 42");
        assertThat(run(env("ADD"), String.format(CONF, "1.0.0"))).isEqualTo(1);
        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(printed).isEqualTo(
                "{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"lock busy\",\"details\":\"held by pid 42\"}\n");
        assertThat(printed).doesNotContain("level=");
    }

    @Test
    void unexpectedExceptionsAreCode999() throws Exception {
        plugin.crash = new IllegalStateException("boom");
        assertThat(run(env("ADD"), String.format(CONF, "1.0.0"))).isEqualTo(1);
        assertThat(error().code()).isEqualTo(CniError.INTERNAL);
        assertThat(error().msg()).contains("boom");
    }

    @Test
    void refusesTheOwnNetnsUnlessOverridden() throws Exception {
        Map<String, String> e = env("ADD");
        e.put("CNI_NETNS", ownNetns.toString());
        assertThat(run(e, String.format(CONF, "1.0.0"))).isEqualTo(1);
        assertThat(error().code()).isEqualTo(CniError.INVALID_NETNS);
        out.reset();
        e.put("CNI_NETNS_OVERRIDE", "1");
        plugin.result = Result.of(CniVersion.V1_0_0, List.of(), List.of(), List.of(), Optional.empty());
        assertThat(run(e, String.format(CONF, "1.0.0"))).isZero();
    }

    @Test
    void cniArgsParse() throws Exception {
        CniArgs a = CniArgs.parse("IgnoreUnknown=1;K8S_POD_NAME=web-0;IP=10.0.0.5;;EMPTY=");
        assertThat(a.get("K8S_POD_NAME")).hasValue("web-0");
        assertThat(a.nonEmpty("IP")).hasValue("10.0.0.5");
        assertThat(a.get("EMPTY")).hasValue("");
        assertThat(a.nonEmpty("EMPTY")).isEmpty();
        assertThat(CniArgs.parse(null)).isEqualTo(CniArgs.EMPTY);
    }

    static final class FakePlugin implements CniPlugin {
        final List<String> calls = new ArrayList<>();
        Result result;
        CniException fail;
        RuntimeException crash;
        CniRequest lastRequest;

        private void record(CniRequest r) throws CniException {
            lastRequest = r;
            calls.add(r.command() + " " + r.containerId().orElse("-") + " " + r.ifName().orElse("-") + " "
                    + (r.netns().isPresent() ? r.netns().get().toString() : "-"));
            if (crash != null) {
                throw crash;
            }
            if (fail != null) {
                throw fail;
            }
        }

        @Override
        public Result add(CniRequest request) throws CniException {
            record(request);
            return result;
        }

        @Override
        public void del(CniRequest request) throws CniException {
            record(request);
        }

        @Override
        public void check(CniRequest request) throws CniException {
            record(request);
        }

        @Override
        public void status(CniRequest request) throws CniException {
            record(request);
        }

        @Override
        public void gc(CniRequest request) throws CniException {
            record(request);
        }

        @Override
        public String about() {
            return "fake plugin";
        }
    }
}
