package dev.nodekit.conformance.cni;

import static dev.nodekit.conformance.Expect.that;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.conformance.CheckBody;
import dev.nodekit.conformance.CheckFailed;
import dev.nodekit.conformance.CheckSkipped;
import dev.nodekit.conformance.Parallel;
import dev.nodekit.conformance.Suite;

/**
 * The CNI suite: the same checks once per spec version, ids {@code cni.<vNNN>.<group>.<name>}
 * ({@code cni.v100.add.result-shape}). Each check runs in its own {@link Sandbox} and removes what
 * it made. Versions the plugin does not claim are SKIP ("plugin does not claim 1.1.0"); CHECK exists
 * from 0.4.0 and STATUS/GC from 1.1.0, so those checks are only generated for those versions.
 */
public final class CniChecks {
    /** How often one of the parallel ADDs may answer code 11 (try again later) and be retried. */
    static final int TRY_AGAIN_RETRIES = 2;

    /** How many ADDs (each in its own netns) run at once in {@code parallel.add-del}. */
    public static final int PARALLEL_ADDS = 40;
    /** A version no plugin can claim, for the "incompatible version" rule. */
    static final String UNSUPPORTED_VERSION = "99.0.0";

    private static final Logger LOG = LoggerFactory.getLogger(CniChecks.class);
    private static final Set<Requirement> NETNS = Set.of(Requirement.ROOT, Requirement.NETNS);
    private static final String IFNAME = Sandbox.IFNAME;

    private CniChecks() {
    }

    /** Every check for every known version. */
    public static Suite<CniTarget> suite() {
        return suite(CniVersions.KNOWN);
    }

    /** The checks for {@code versions} (each must be one of {@link CniVersions#KNOWN}), oldest first. */
    public static Suite<CniTarget> suite(List<String> versions) {
        Suite.Builder<CniTarget> b = Suite.builder("cni");
        for (String v : CniVersions.sorted(versions)) {
            if (!CniVersions.KNOWN.contains(v)) {
                throw new IllegalArgumentException("no CNI checks for version " + v);
            }
            forVersion(b, v);
        }
        return b.build();
    }

    /** {@code cni.v100} for 1.0.0: the prefix of every check id of that version. */
    public static String idPrefix(String version) {
        return "cni." + CniVersions.token(version);
    }

    private static void forVersion(Suite.Builder<CniTarget> b, String v) {
        String p = idPrefix(v) + ".";
        String spec = "CNI " + v + " ";
        boolean modern = CniVersions.atLeast(v, "1.0.0");

        b.check(p + "version.supported", spec + "VERSION",
                "VERSION answers cniVersion and supportedVersions containing " + v, Set.of(),
                tested(v, t -> versionSupported(t, v)));
        b.check(p + "add.result-shape", spec + "ADD; Result",
                "ADD answers a result of version " + v + ": interfaces with sandbox, ips with interface index, CIDR "
                        + "addresses, gateway in subnet, ips[].version " + (modern ? "absent" : "present"),
                NETNS, tested(v, t -> addResultShape(t, v)));
        b.check(p + "add.in-netns", spec + "ADD",
                "the container interface is really in the netns, up, with the claimed MAC and addresses",
                NETNS, tested(v, t -> addInNetns(t, v)));
        b.check(p + "add.gateway-reachable", spec + "ADD; Result ips[].gateway",
                "the gateway answers ping from the pod netns", NETNS, tested(v, t -> gatewayReachable(t, v)));
        b.check(p + "add.existing-ifname", spec + "ADD",
                "ADD of an interface name that already exists in the netns fails and leaves the first one intact",
                NETNS, tested(v, t -> existingIfname(t, v)));
        if (CniVersions.atLeast(v, "0.4.0")) {
            b.check(p + "check.after-add", spec + "CHECK", "CHECK with the ADD result as prevResult succeeds",
                    NETNS, tested(v, t -> checkAfterAdd(t, v)));
            b.check(p + "check.missing-interface", spec + "CHECK",
                    "CHECK fails after the container interface was deleted behind the plugin's back",
                    NETNS, tested(v, t -> checkMissingInterface(t, v)));
        }
        b.check(p + "del.after-add", spec + "DEL",
                "DEL succeeds, removes the container interface and releases the address", NETNS,
                tested(v, t -> delAfterAdd(t, v)));
        b.check(p + "del.repeated", spec + "DEL", "a second DEL of the same attachment succeeds", NETNS,
                tested(v, t -> delRepeated(t, v)));
        b.check(p + "del.netns-gone", spec + "DEL",
                "DEL succeeds and releases the address after the netns is gone, with and without CNI_NETNS",
                NETNS, tested(v, t -> delNetnsGone(t, v)));
        b.check(p + "error.malformed-config", spec + "Error" + (modern ? " (code 6)" : ""),
                "malformed JSON on stdin is an error on stdout" + (modern ? " with code 6" : ""), NETNS,
                tested(v, t -> malformedConfig(t, v)));
        b.check(p + "error.unsupported-version", spec + "Error (code 1)",
                "a config with cniVersion " + UNSUPPORTED_VERSION + " is error code 1 on stdout", NETNS,
                tested(v, t -> unsupportedVersion(t, v)));
        b.check(p + "error.missing-env", spec + "Parameters; Error" + (modern ? " (code 4)" : ""),
                "ADD without CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME is an error on stdout"
                        + (modern ? " with code 4 naming them" : ""), Set.of(),
                tested(v, t -> missingEnv(t, v)));
        b.check(p + "parallel.add-del", spec + "ADD; DEL",
                PARALLEL_ADDS + " parallel ADDs give distinct addresses; after " + PARALLEL_ADDS
                        + " parallel DELs the IPAM dir holds no allocation", NETNS,
                tested(v, t -> parallelAddDel(t, v)));
        if (CniVersions.atLeast(v, "1.1.0")) {
            b.check(p + "status.ready", spec + "STATUS", "STATUS succeeds for a usable configuration", Set.of(),
                    tested(v, t -> statusReady(t, v)));
            b.check(p + "gc.valid-attachments", spec + "GC",
                    "GC releases the addresses of attachments not in cni.dev/valid-attachments and keeps the listed",
                    NETNS, tested(v, t -> gcValidAttachments(t, v)));
        }
    }

    private static CheckBody<CniTarget> tested(String v, CheckBody<CniTarget> body) {
        return t -> {
            t.requireTested(v);
            body.run(t);
        };
    }

    // --- VERSION ------------------------------------------------------------------------------

    private static void versionSupported(CniTarget t, String v) throws Exception {
        ExecResult r = t.exec().invoke(t.pluginType(), CniEnv.of("VERSION"), "{\"cniVersion\":\"" + v + "\"}");
        that(r.succeeded(), "VERSION failed: %s", r.summary());
        noProblems(CniResultRules.versionAnswer(json(r, "VERSION"), v), "VERSION");
    }

    // --- ADD ----------------------------------------------------------------------------------

    private static void addResultShape(CniTarget t, String v) throws Exception {
        try (Sandbox s = t.sandbox()) {
            String ns = s.newNetns();
            JsonNode res = addOk(s, v, ns, s.containerId());
            noProblems(CniResultRules.addResult(res, v, IFNAME, ns, s.expectsIps()), "ADD result");
        }
    }

    private static void addInNetns(CniTarget t, String v) throws Exception {
        try (Sandbox s = t.sandbox()) {
            String ns = s.newNetns();
            JsonNode res = addOk(s, v, ns, s.containerId());
            int idx = containerIndex(res);
            JsonNode claimed = res.get("interfaces").get(idx);
            Optional<String> mac = Optional.ofNullable(claimed.get("mac")).map(JsonNode::asText);
            List<IpCidr> addrs = CniResultRules.addressesOn(res, idx);
            JsonNode link = t.host().linkIn(ns, IFNAME).orElseThrow(() -> new CheckFailed(
                    "ADD succeeded but there is no " + IFNAME + " in " + ns));
            noProblems(CniResultRules.linkState(link, IFNAME, mac, addrs), "in " + ns);
            JsonNode ifaces = res.get("interfaces");
            for (int i = 0; i < ifaces.size(); i++) {
                JsonNode e = ifaces.get(i);
                if (i == idx || !e.path("sandbox").asText("").isEmpty()) {
                    continue;
                }
                String name = e.path("name").asText();
                JsonNode host = t.host().hostLink(name).orElseThrow(() -> new CheckFailed("interfaces lists host "
                        + "interface " + name + " (no sandbox) but the host has no such link"));
                if (e.hasNonNull("mac")) {
                    that(e.get("mac").asText().equalsIgnoreCase(host.path("address").asText()),
                            "host interface %s has MAC %s but the result claims %s", name,
                            host.path("address").asText(), e.get("mac").asText());
                }
            }
        }
    }

    private static void gatewayReachable(CniTarget t, String v) throws Exception {
        try (Sandbox s = t.sandbox()) {
            String ns = s.newNetns();
            JsonNode res = addOk(s, v, ns, s.containerId());
            List<InetAddress> gws = CniResultRules.gatewaysOn(res, containerIndex(res));
            if (gws.isEmpty()) {
                if (t.generated()) {
                    throw new CheckFailed("the ADD result has no gateway for " + IFNAME
                            + " although the generated config sets isGateway");
                }
                throw new CheckSkipped("the ADD result has no gateway for " + IFNAME);
            }
            for (InetAddress gw : gws) {
                // Traffic only inside what this check created: the gateway must sit on its bridge.
                Optional<JsonNode> br = s.bridge().isPresent() ? t.host().hostLink(s.bridge().get()) : Optional.empty();
                boolean ours = br.isPresent() && CniResultRules.hasAddress(br.get(), gw);
                if (!ours) {
                    String why = "gateway " + IpCidr.canonical(gw) + " is not on the sandbox bridge "
                            + s.bridge().orElse("(config has no bridge key)");
                    if (t.generated()) {
                        throw new CheckFailed(why + " although the generated config sets isGateway");
                    }
                    throw new CheckSkipped(why + "; not pinging an address this check did not create");
                }
                CommandResult ping = t.host().ping(ns, gw, 3);
                that(ping.succeeded(), "gateway %s does not answer ping from %s: %s", IpCidr.canonical(gw), ns,
                        HostNet.describe(ping));
            }
        }
    }

    private static void existingIfname(CniTarget t, String v) throws Exception {
        try (Sandbox s = t.sandbox()) {
            String ns = s.newNetns();
            JsonNode first = addOk(s, v, ns, s.containerId());
            List<IpCidr> addrs = CniResultRules.addressesOn(first, containerIndex(first));
            ExecResult again = s.add(v, ns, s.containerId());
            that(!again.succeeded(), "a second ADD of %s into %s (another container id) succeeded; the spec requires "
                    + "an error when CNI_IFNAME already exists: %s", IFNAME, ns, again.summary());
            noProblems(CniResultRules.errorAnswer(again.exitCode(), again.stdout()), "second ADD of " + IFNAME);
            JsonNode link = t.host().linkIn(ns, IFNAME).orElseThrow(() -> new CheckFailed(
                    "the failed second ADD removed the existing " + IFNAME + " from " + ns));
            noProblems(CniResultRules.linkState(link, IFNAME, Optional.empty(), addrs),
                    "the existing " + IFNAME + " after the failed ADD");
            if (s.ipamDir().isPresent()) {
                List<String> want = addrs.stream().map(a -> IpCidr.canonical(a.address())).sorted().toList();
                List<String> have = IpamDir.allocations(s.ipamDir().get());
                that(have.equals(want), "after the failed second ADD the IPAM dir holds %s, expected only the first "
                        + "attachment's %s (a failed ADD must not keep an allocation)", have, want);
            }
        }
    }

    // --- CHECK --------------------------------------------------------------------------------

    private static void checkAfterAdd(CniTarget t, String v) throws Exception {
        try (Sandbox s = t.sandbox()) {
            String ns = s.newNetns();
            String cid = s.containerId();
            JsonNode res = addOk(s, v, ns, cid);
            ExecResult r = s.check(v, ns, cid, res);
            that(r.succeeded(), "CHECK right after a successful ADD failed: %s", r.summary());
        }
    }

    private static void checkMissingInterface(CniTarget t, String v) throws Exception {
        try (Sandbox s = t.sandbox()) {
            String ns = s.newNetns();
            String cid = s.containerId();
            JsonNode res = addOk(s, v, ns, cid);
            if (!t.host().deleteLinkIn(ns, IFNAME)) {
                throw new IOException("could not delete " + IFNAME + " in " + ns + " to set up the check");
            }
            ExecResult r = s.check(v, ns, cid, res);
            that(!r.succeeded(), "CHECK succeeded although %s was deleted from %s: CHECK must report the container "
                    + "networking is not as ADD left it", IFNAME, ns);
            noProblems(CniResultRules.errorAnswer(r.exitCode(), r.stdout()), "CHECK error");
        }
    }

    // --- DEL ----------------------------------------------------------------------------------

    private static void delAfterAdd(CniTarget t, String v) throws Exception {
        try (Sandbox s = t.sandbox()) {
            String ns = s.newNetns();
            String cid = s.containerId();
            JsonNode res = addOk(s, v, ns, cid);
            ExecResult r = s.del(v, Optional.of(ns), cid, Optional.of(res));
            that(r.succeeded(), "DEL after ADD failed: %s", r.summary());
            that(t.host().linkIn(ns, IFNAME).isEmpty(), "after DEL %s is still in %s", IFNAME, ns);
            ipamClean(s, "DEL");
        }
    }

    private static void delRepeated(CniTarget t, String v) throws Exception {
        try (Sandbox s = t.sandbox()) {
            String ns = s.newNetns();
            String cid = s.containerId();
            JsonNode res = addOk(s, v, ns, cid);
            ExecResult r1 = s.del(v, Optional.of(ns), cid, Optional.of(res));
            that(r1.succeeded(), "first DEL failed: %s", r1.summary());
            ExecResult r2 = s.del(v, Optional.of(ns), cid, Optional.of(res));
            that(r2.succeeded(), "second DEL of the same attachment failed (DEL must succeed when the resources "
                    + "are already gone): %s", r2.summary());
            ipamClean(s, "two DELs");
        }
    }

    private static void delNetnsGone(CniTarget t, String v) throws Exception {
        try (Sandbox s = t.sandbox()) {
            String ns = s.newNetns();
            String cid = s.containerId();
            JsonNode res = addOk(s, v, ns, cid);
            s.deleteNetns(ns);
            ExecResult r1 = s.del(v, Optional.of(ns), cid, Optional.of(res));
            that(r1.succeeded(), "DEL with CNI_NETNS=%s after the netns was deleted failed: %s", ns, r1.summary());
            ExecResult r2 = s.del(v, Optional.empty(), cid, Optional.of(res));
            that(r2.succeeded(), "DEL without CNI_NETNS (as a runtime's second DEL) failed: %s", r2.summary());
            ipamClean(s, "DEL after the netns was gone");
        }
    }

    // --- errors -------------------------------------------------------------------------------

    private static void malformedConfig(CniTarget t, String v) throws Exception {
        try (Sandbox s = t.sandbox()) {
            String ns = s.newNetns();
            String conf = s.conf(v).toString();
            // Any proper prefix of a JSON object is malformed; this one still carries cniVersion and name.
            String truncated = conf.substring(0, conf.lastIndexOf('}'));
            ExecResult r = s.call(CniEnv.attachment("ADD", s.containerId(), ns, IFNAME, s.cniPath()), truncated);
            expectError(r, "ADD with malformed JSON");
            if (CniVersions.atLeast(v, "1.0.0")) {
                int code = CniResultRules.errorCode(r.stdout());
                that(code == 6, "malformed JSON gave error code %d; the spec's code is 6 (failed to decode content)",
                        code);
            }
        }
    }

    private static void unsupportedVersion(CniTarget t, String v) throws Exception {
        try (Sandbox s = t.sandbox()) {
            String ns = s.newNetns();
            ObjectNode conf = s.conf(v);
            conf.put("cniVersion", UNSUPPORTED_VERSION);
            ExecResult r = s.call(CniEnv.attachment("ADD", s.containerId(), ns, IFNAME, s.cniPath()), conf.toString());
            expectError(r, "ADD with cniVersion " + UNSUPPORTED_VERSION);
            int code = CniResultRules.errorCode(r.stdout());
            that(code == 1, "cniVersion %s gave error code %d; the spec's code is 1 (incompatible CNI version)",
                    UNSUPPORTED_VERSION, code);
        }
    }

    private static void missingEnv(CniTarget t, String v) throws Exception {
        try (Sandbox s = t.sandbox()) {
            ExecResult r = s.call(CniEnv.of("ADD").with(CniEnv.PATH, s.cniPath()), s.conf(v).toString());
            expectError(r, "ADD without CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME");
            if (CniVersions.atLeast(v, "1.0.0")) {
                int code = CniResultRules.errorCode(r.stdout());
                that(code == 4, "missing variables gave error code %d; the spec's code is 4", code);
                String text = CniResultRules.errorText(r.stdout());
                List<String> unnamed = new ArrayList<>();
                for (String var : List.of(CniEnv.CONTAINERID, CniEnv.NETNS, CniEnv.IFNAME)) {
                    if (!text.contains(var)) {
                        unnamed.add(var);
                    }
                }
                that(unnamed.isEmpty(), "the error must name the missing variables; it does not name %s: %s",
                        unnamed, text.strip());
            }
        }
    }

    // --- concurrency --------------------------------------------------------------------------

    private static void parallelAddDel(CniTarget t, String v) throws Exception {
        try (Sandbox s = t.sandbox()) {
            List<String> ns = new ArrayList<>();
            List<String> cids = new ArrayList<>();
            for (int i = 0; i < PARALLEL_ADDS; i++) {
                ns.add(s.newNetns());
                cids.add(s.containerId());
            }
            long start = System.nanoTime();
            java.util.concurrent.atomic.AtomicInteger retried = new java.util.concurrent.atomic.AtomicInteger();
            List<ExecResult> adds = Parallel.each(PARALLEL_ADDS, i -> {
                // Code 11 is the spec's "try again later" (a bounded wait ran out under load): do
                // what a runtime does, DEL the failed attempt and ADD again, a bounded number of times.
                ExecResult r = s.add(v, ns.get(i), cids.get(i));
                for (int attempt = 1; attempt <= TRY_AGAIN_RETRIES && !r.succeeded() && tryAgain(r); attempt++) {
                    retried.incrementAndGet();
                    s.del(v, Optional.of(ns.get(i)), cids.get(i), Optional.empty());
                    r = s.add(v, ns.get(i), cids.get(i));
                }
                return r;
            });
            Duration addWall = Duration.ofNanos(System.nanoTime() - start);
            Map<InetAddress, Integer> owner = new HashMap<>();
            List<JsonNode> results = new ArrayList<>();
            for (int i = 0; i < PARALLEL_ADDS; i++) {
                ExecResult r = adds.get(i);
                that(r.succeeded(), "parallel ADD %d of %d failed: %s", i, PARALLEL_ADDS, r.summary());
                JsonNode res = json(r, "parallel ADD " + i);
                results.add(res);
                List<IpCidr> addrs = CniResultRules.addressesOn(res, containerIndex(res));
                that(!addrs.isEmpty() || !s.expectsIps(), "parallel ADD %d returned no address for %s", i, IFNAME);
                for (IpCidr a : addrs) {
                    Integer prev = owner.putIfAbsent(a.address(), i);
                    that(prev == null, "parallel ADDs %d and %d both got %s", prev, i, IpCidr.canonical(a.address()));
                    JsonNode link = t.host().linkIn(ns.get(i), IFNAME).orElseThrow(() -> new CheckFailed(
                            "parallel ADD succeeded but there is no " + IFNAME + " in the netns"));
                    that(CniResultRules.hasAddress(link, a.address()), "parallel ADD %d claims %s but %s does not "
                            + "have it", i, a, ns.get(i));
                }
            }
            start = System.nanoTime();
            List<ExecResult> dels = Parallel.each(PARALLEL_ADDS,
                    i -> s.del(v, Optional.of(ns.get(i)), cids.get(i), Optional.of(results.get(i))));
            Duration delWall = Duration.ofNanos(System.nanoTime() - start);
            for (int i = 0; i < PARALLEL_ADDS; i++) {
                that(dels.get(i).succeeded(), "parallel DEL %d failed: %s", i, dels.get(i).summary());
            }
            ipamClean(s, PARALLEL_ADDS + " parallel DELs");
            String key = CniVersions.token(v) + ".parallel-" + PARALLEL_ADDS;
            t.record(key + "-add.wall", addWall);
            t.record(key + "-del.wall", delWall);
            LOG.atInfo().addKeyValue("version", v).addKeyValue("n", PARALLEL_ADDS)
                    .addKeyValue("add_wall_ms", addWall.toMillis()).addKeyValue("del_wall_ms", delWall.toMillis())
                    .addKeyValue("try_again_retries", retried.get())
                    .log("parallel ADD/DEL");
        }
    }

    /** Whether a failed call answered the spec's code 11, "try again later". */
    private static boolean tryAgain(ExecResult r) {
        try {
            return CniResultRules.errorCode(r.stdout()) == 11;
        } catch (IOException | RuntimeException e) {
            return false; // not an error body: a real failure, reported as such
        }
    }

    // --- 1.1.0 --------------------------------------------------------------------------------

    private static void statusReady(CniTarget t, String v) throws Exception {
        try (Sandbox s = t.sandbox()) {
            ExecResult r = s.call(CniEnv.of("STATUS").with(CniEnv.PATH, s.cniPath()), s.conf(v).toString());
            that(r.succeeded(), "STATUS failed for a fresh, usable configuration: %s", r.summary());
        }
    }

    private static void gcValidAttachments(CniTarget t, String v) throws Exception {
        try (Sandbox s = t.sandbox()) {
            Path dir = s.ipamDir().orElseThrow(() -> new CheckSkipped(
                    "the config has no ipam.dataDir, so GC's effect on allocations cannot be observed"));
            String ns1 = s.newNetns();
            String ns2 = s.newNetns();
            String keep = s.containerId();
            String drop = s.containerId();
            JsonNode r1 = addOk(s, v, ns1, keep);
            JsonNode r2 = addOk(s, v, ns2, drop);
            List<IpCidr> kept = CniResultRules.addressesOn(r1, containerIndex(r1));
            List<IpCidr> dropped = CniResultRules.addressesOn(r2, containerIndex(r2));
            that(!kept.isEmpty() && !dropped.isEmpty(), "the ADD results carry no address to collect");
            for (IpCidr a : concat(kept, dropped)) {
                that(IpamDir.holds(dir, a.address()), "after ADD %s holds no allocation file for %s: GC is judged "
                        + "on host-local's on-disk format", dir, a);
            }
            ObjectNode conf = s.conf(v);
            ArrayNode valid = conf.putArray("cni.dev/valid-attachments");
            valid.addObject().put("containerID", keep).put("ifname", IFNAME);
            conf.set("cni.dev/attachments", valid.deepCopy());
            ExecResult r = s.call(CniEnv.of("GC").with(CniEnv.PATH, s.cniPath()), conf.toString());
            that(r.succeeded(), "GC failed: %s", r.summary());
            for (IpCidr a : kept) {
                that(IpamDir.holds(dir, a.address()), "GC released %s of %s, which is listed in "
                        + "cni.dev/valid-attachments", a, keep);
            }
            for (IpCidr a : dropped) {
                that(!IpamDir.holds(dir, a.address()), "GC kept %s of %s, which is not listed in "
                        + "cni.dev/valid-attachments", a, drop);
            }
        }
    }

    // --- helpers ------------------------------------------------------------------------------

    private static JsonNode addOk(Sandbox s, String v, String ns, String cid) throws IOException, InterruptedException {
        ExecResult r = s.add(v, ns, cid);
        that(r.succeeded(), "ADD failed: %s", r.summary());
        return json(r, "ADD");
    }

    private static JsonNode json(ExecResult r, String what) {
        try {
            return CniResultRules.parseStdout(r.stdout());
        } catch (IOException e) {
            throw new CheckFailed(what + ": " + e.getMessage());
        }
    }

    private static int containerIndex(JsonNode res) {
        OptionalInt i = CniResultRules.containerInterface(res, IFNAME);
        if (i.isEmpty()) {
            throw new CheckFailed("the ADD result lists no interface named " + IFNAME + ": " + ExecResult.shorten(
                    res.toString()));
        }
        return i.getAsInt();
    }

    private static void expectError(ExecResult r, String what) {
        that(!r.timedOut(), "%s: %s", what, r.summary());
        List<String> p = CniResultRules.errorAnswer(r.exitCode(), r.stdout());
        if (!p.isEmpty()) {
            throw new CheckFailed(what + " must be an error on stdout: " + String.join("; ", p) + " (" + r.summary()
                    + ")");
        }
    }

    private static void ipamClean(Sandbox s, String after) throws IOException {
        if (s.ipamDir().isEmpty()) {
            return;
        }
        List<String> left = IpamDir.allocations(s.ipamDir().get());
        that(left.isEmpty(), "after %s the IPAM dir %s still holds allocations %s", after, s.ipamDir().get(), left);
    }

    private static void noProblems(List<String> problems, String what) {
        if (!problems.isEmpty()) {
            throw new CheckFailed(what + ": " + String.join("; ", problems));
        }
    }

    private static <E> List<E> concat(List<E> a, List<E> b) {
        List<E> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
