package dev.nodekit.conformance.cni;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.conformance.Check;
import dev.nodekit.conformance.CheckResult;
import dev.nodekit.conformance.Outcome;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.SuiteRunner;

/**
 * Every check that needs a real netns fails against a plugin with one injected defect (a fake that
 * wraps the Go reference bridge and breaks one rule), and cleans up after it all the same.
 * The root-free checks have theirs in {@link CniChecksTest}.
 */
@Requires({Requirement.ROOT, Requirement.NETNS, Requirement.CNI_REFERENCE_PLUGINS})
class CniChecksDefectIT {
    @TempDir
    Path dir;
    FakePlugins fakes;
    CniTarget target;

    @BeforeEach
    void setUp() throws Exception {
        fakes = new FakePlugins(dir);
    }

    @AfterEach
    void noLeftovers() throws Exception {
        if (target == null) {
            return;
        }
        target.close();
        String id = target.runId();
        try (Stream<Path> s = Files.list(Path.of(HostNet.NETNS_DIR))) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("nk-" + id + "-"));
        }
        try (Stream<Path> s = Files.list(Path.of("/sys/class/net"))) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("nk" + id));
        }
    }

    private CheckResult run(String plugin, String ipam, String version, String check) throws Exception {
        target = CniTarget.open(CniTarget.Config.generated(fakes.binDir(), plugin, ipam).withVersions(List.of(version)));
        String id = CniChecks.idPrefix(version) + "." + check;
        Check<CniTarget> c = CniChecks.suite(List.of(version)).checks().stream().filter(x -> x.id().equals(id))
                .findFirst().orElseThrow(() -> new AssertionError("no check " + id));
        return new SuiteRunner(RunOptions.defaults().withStrict(false)).runOne(c, target);
    }

    private void fails(String plugin, String version, String check, String reasonPart) throws Exception {
        CheckResult r = run(plugin, "host-local", version, check);
        assertThat(r.outcome()).as(check + " against " + plugin + ": " + r.reason()).isEqualTo(Outcome.FAIL);
        assertThat(r.reason()).contains(reasonPart);
    }

    private String java(String mode) throws Exception {
        return fakes.java(mode, mode, "bridge");
    }

    // --- add.result-shape ---------------------------------------------------------------------

    @Test
    void resultWithoutInterfaceIndex() throws Exception {
        fails(java("drop-interface-index"), "1.0.0", "add.result-shape", "has no \"interface\" index");
    }

    @Test
    void resultInAnotherVersion() throws Exception {
        fails(java("wrong-result-version"), "1.0.0", "add.result-shape", "cniVersion is \"0.4.0\"");
    }

    @Test
    void ipsVersionKeptIn100() throws Exception {
        fails(java("flip-ips-version"), "1.0.0", "add.result-shape", "removed in 1.0.0");
    }

    @Test
    void ipsVersionMissingIn040() throws Exception {
        fails(java("flip-ips-version"), "0.4.0", "add.result-shape", "has no \"version\"");
    }

    @Test
    void containerInterfaceWithoutSandbox() throws Exception {
        fails(java("no-sandbox"), "1.0.0", "add.result-shape", "sandbox = CNI_NETNS");
    }

    @Test
    void gatewayOutsideTheSubnet() throws Exception {
        fails(java("gateway-outside"), "0.3.1", "add.result-shape", "is not inside");
    }

    // --- add.in-netns ---------------------------------------------------------------------------

    @Test
    void claimsAnotherMac() throws Exception {
        fails(java("wrong-mac"), "1.0.0", "add.in-netns", "but the result claims 02:00:00:00:00:01");
    }

    @Test
    void claimsAnotherAddress() throws Exception {
        fails(java("wrong-address"), "0.3.0", "add.in-netns", "does not have");
    }

    // --- add.gateway-reachable ----------------------------------------------------------------

    @Test
    void podCannotReachTheGateway() throws Exception {
        String f = fakes.shell("no-routes", """
                out=$("$REAL"); rc=$?
                if [ "$CNI_COMMAND" = ADD ] && [ $rc -eq 0 ]; then nsenter --net="$CNI_NETNS" ip route flush dev "$CNI_IFNAME"; fi
                printf '%s\\n' "$out"; exit $rc""");
        fails(f, "1.0.0", "add.gateway-reachable", "does not answer ping");
    }

    @Test
    void gatewayNotOnTheBridge() throws Exception {
        String f = fakes.shell("bare-bridge", """
                in=$(cat); out=$(printf '%s' "$in" | "$REAL"); rc=$?
                br=$(printf '%s' "$in" | sed -n 's/.*"bridge":"\\([^"]*\\)".*/\\1/p')
                if [ "$CNI_COMMAND" = ADD ] && [ $rc -eq 0 ]; then ip addr flush dev "$br"; fi
                printf '%s\\n' "$out"; exit $rc""");
        fails(f, "1.0.0", "add.gateway-reachable", "is not on the sandbox bridge");
    }

    // --- add.existing-ifname ------------------------------------------------------------------

    @Test
    void addReplacesAnExistingInterface() throws Exception {
        String f = fakes.shell("replaces", """
                if [ "$CNI_COMMAND" = ADD ]; then nsenter --net="$CNI_NETNS" ip link del "$CNI_IFNAME" 2>/dev/null; fi
                exec "$REAL\"""");
        fails(f, "1.0.0", "add.existing-ifname", "succeeded");
    }

    // --- CHECK --------------------------------------------------------------------------------

    @Test
    void checkFailsOnAHealthyAttachment() throws Exception {
        String f = fakes.shell("check-broken", """
                if [ "$CNI_COMMAND" = CHECK ]; then cat >/dev/null; echo '{"code":999,"msg":"check is broken"}'; exit 1; fi
                exec "$REAL\"""");
        fails(f, "0.4.0", "check.after-add", "CHECK right after a successful ADD failed");
    }

    @Test
    void checkThatChecksNothing() throws Exception {
        String f = fakes.shell("check-noop", """
                if [ "$CNI_COMMAND" = CHECK ]; then cat >/dev/null; exit 0; fi
                exec "$REAL\"""");
        fails(f, "1.0.0", "check.missing-interface", "CHECK succeeded although");
    }

    // --- DEL ----------------------------------------------------------------------------------

    @Test
    void delThatDoesNothing() throws Exception {
        String f = fakes.shell("del-noop", """
                if [ "$CNI_COMMAND" = DEL ]; then cat >/dev/null; exit 0; fi
                exec "$REAL\"""");
        fails(f, "1.0.0", "del.after-add", "is still in");
    }

    @Test
    void delThatLeaksTheAddress() throws Exception {
        fails(delLeaks(), "0.4.0", "del.after-add", "still holds allocations");
    }

    @Test
    void secondDelFails() throws Exception {
        String f = fakes.shell("del-once", """
                if [ "$CNI_COMMAND" = DEL ]; then
                  m="$STATE/$CNI_CONTAINERID"
                  if [ -e "$m" ]; then cat >/dev/null; echo '{"code":3,"msg":"container unknown"}'; exit 1; fi
                  touch "$m"
                fi
                exec "$REAL\"""");
        fails(f, "1.0.0", "del.repeated", "second DEL");
    }

    @Test
    void delFailsWhenTheNetnsIsGone() throws Exception {
        String f = fakes.shell("del-needs-netns", """
                if [ "$CNI_COMMAND" = DEL ] && [ ! -e "${CNI_NETNS:-/nonexistent}" ]; then
                  cat >/dev/null; echo '{"code":999,"msg":"no such netns"}'; exit 1
                fi
                exec "$REAL\"""");
        fails(f, "1.0.0", "del.netns-gone", "after the netns was deleted failed");
    }

    @Test
    void delLeaksTheAddressWhenTheNetnsIsGone() throws Exception {
        String f = fakes.shell("del-skips-ipam", """
                if [ "$CNI_COMMAND" = DEL ] && [ ! -e "${CNI_NETNS:-/nonexistent}" ]; then cat >/dev/null; exit 0; fi
                exec "$REAL\"""");
        fails(f, "0.3.1", "del.netns-gone", "still holds allocations");
    }

    // --- errors -------------------------------------------------------------------------------

    @Test
    void malformedJsonExitsZero() throws Exception {
        String f = fakes.shell("lenient", """
                out=$("$REAL"); rc=$?
                case "$out" in *'"code": 6'*) echo '{}'; exit 0;; esac
                printf '%s\n' "$out"; exit $rc""");
        fails(f, "1.0.0", "error.malformed-config", "exit code is 0");
    }

    @Test
    void errorWrittenToStderr() throws Exception {
        fails(errorsOnStderr(), "0.3.0", "error.malformed-config", "must be JSON on stdout");
    }

    @Test
    void malformedJsonWrongCode() throws Exception {
        String f = fakes.shell("code7", """
                out=$("$REAL"); rc=$?
                printf '%s\\n' "$out" | sed 's/"code": 6/"code": 7/'; exit $rc""");
        fails(f, "1.0.0", "error.malformed-config", "gave error code 7");
    }

    @Test
    void acceptsAnyVersion() throws Exception {
        String f = fakes.shell("any-version", """
                in=$(cat)
                printf '%s' "$in" | sed 's/"cniVersion":"99.0.0"/"cniVersion":"1.0.0"/' | "$REAL\"""");
        fails(f, "1.0.0", "error.unsupported-version", "exit code is 0");
    }

    @Test
    void unsupportedVersionOnStderr() throws Exception {
        fails(errorsOnStderr(), "0.4.0", "error.unsupported-version", "must be JSON on stdout");
    }

    // --- parallel -----------------------------------------------------------------------------

    @Test
    void racyIpamHandsOutOneAddressTwice() throws Exception {
        String ipam = fakes.racyIpam("racy-ipam");
        CheckResult r = run("bridge", ipam, "1.0.0", "parallel.add-del");
        assertThat(r.outcome()).as(r.reason()).isEqualTo(Outcome.FAIL);
        assertThat(r.reason()).contains("both got");
    }

    @Test
    void parallelDelsLeakAddresses() throws Exception {
        fails(delLeaks(), "1.0.0", "parallel.add-del", "still holds allocations");
    }

    private String delLeaks() throws Exception {
        return fakes.shell("del-leaks", """
                if [ "$CNI_COMMAND" = DEL ]; then
                  cat >/dev/null
                  [ -n "${CNI_NETNS:-}" ] && nsenter --net="$CNI_NETNS" ip link del "$CNI_IFNAME" 2>/dev/null
                  exit 0
                fi
                exec "$REAL\"""");
    }

    private String errorsOnStderr() throws Exception {
        return fakes.shell("stderr-errors", """
                out=$("$REAL"); rc=$?
                if [ $rc -ne 0 ]; then printf '%s\\n' "$out" >&2; exit $rc; fi
                printf '%s\\n' "$out\"""");
    }
}
