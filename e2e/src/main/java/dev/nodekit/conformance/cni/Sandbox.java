package dev.nodekit.conformance.cni;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What one check owns: its network namespaces ({@code nk-<runId>-N}), its bridge
 * ({@code nk<runId>bN}), its IPAM data dir, and every attachment it tried to ADD. Closing it DELs
 * what is still attached (best effort, as a runtime would), deletes the namespaces, the veths left
 * on its bridge, the bridge and the data dir, and puts {@code net.ipv4.ip_forward} back; anything
 * that cannot be removed fails the check.
 */
final class Sandbox implements AutoCloseable {
    static final String IFNAME = "eth0";
    private static final Logger LOG = LoggerFactory.getLogger(Sandbox.class);

    private record Attachment(String version, String containerId, String ifname, String netns) {
    }

    private final CniTarget target;
    private final String bridge;
    private final Path dataDir;
    private final List<String> netns = Collections.synchronizedList(new ArrayList<>());
    private final List<Attachment> attached = Collections.synchronizedList(new ArrayList<>());
    private final Optional<String> ipForwardBefore;

    Sandbox(CniTarget target, int id) throws IOException {
        this.target = target;
        this.bridge = "nk" + target.runId() + "b" + id;
        this.dataDir = Files.createDirectories(target.workDir().resolve("ipam-" + id));
        this.ipForwardBefore = HostNet.ipForward();
    }

    /** Creates a new namespace and returns its path (the CNI_NETNS value). */
    String newNetns() throws IOException, InterruptedException {
        String name = "nk-" + target.runId() + "-" + target.nextId();
        netns.add(name);
        target.host().addNetns(name);
        return HostNet.netnsPath(name);
    }

    /** Deletes a namespace of this sandbox now (for "DEL after the netns is gone"). */
    void deleteNetns(String path) throws IOException, InterruptedException {
        String name = path.substring(HostNet.NETNS_DIR.length());
        if (!target.host().deleteNetns(name)) {
            throw new IOException("could not delete netns " + name);
        }
    }

    /** A container id unique in this run. */
    String containerId() {
        return "nk" + target.runId() + "c" + target.nextId();
    }

    /** The per-plugin config for {@code version} in this sandbox. */
    ObjectNode conf(String version) {
        return NetConfs.forSandbox(target.baseConf(), version, bridge, dataDir);
    }

    /** Where the IPAM keeps allocations, when the config tells (host-local style). */
    Optional<Path> ipamDir() {
        return NetConfs.ipamDir(conf(CniVersions.KNOWN.get(0)));
    }

    /** This sandbox's bridge, when the config has a {@code bridge} key. */
    Optional<String> bridge() {
        return NetConfs.bridge(conf(CniVersions.KNOWN.get(0)));
    }

    boolean expectsIps() {
        return NetConfs.hasIpam(target.baseConf());
    }

    ExecResult add(String version, String ns, String containerId) throws IOException, InterruptedException {
        return call(CniEnv.attachment("ADD", containerId, ns, IFNAME, cniPath()), conf(version).toString());
    }

    ExecResult check(String version, String ns, String containerId, JsonNode prevResult)
            throws IOException, InterruptedException {
        ObjectNode c = conf(version);
        c.set("prevResult", prevResult);
        return call(CniEnv.attachment("CHECK", containerId, ns, IFNAME, cniPath()), c.toString());
    }

    /** DEL; {@code ns} empty = no CNI_NETNS (as containerd's second DEL); {@code prevResult} sent from 0.4.0 on. */
    ExecResult del(String version, Optional<String> ns, String containerId, Optional<JsonNode> prevResult)
            throws IOException, InterruptedException {
        ObjectNode c = conf(version);
        if (prevResult.isPresent() && CniVersions.atLeast(version, "0.4.0")) {
            c.set("prevResult", prevResult.get());
        }
        CniEnv env = CniEnv.attachment("DEL", containerId, ns.orElse(""), IFNAME, cniPath());
        return call(ns.isPresent() ? env : env.without(CniEnv.NETNS), c.toString());
    }

    /** Any call; an ADD is remembered (even if it fails: a runtime DELs after a failed ADD) until a DEL of it succeeds. */
    ExecResult call(CniEnv env, String stdin) throws IOException, InterruptedException {
        String cmd = env.get(CniEnv.COMMAND);
        String cid = env.get(CniEnv.CONTAINERID);
        String ifname = env.get(CniEnv.IFNAME);
        if ("ADD".equals(cmd) && cid != null && ifname != null) {
            attached.add(new Attachment(versionOf(stdin), cid, ifname, env.get(CniEnv.NETNS)));
        }
        ExecResult r = target.exec().invoke(target.pluginType(), env, stdin);
        if ("DEL".equals(cmd) && r.succeeded()) {
            attached.removeIf(a -> a.containerId().equals(cid) && a.ifname().equals(ifname));
        }
        return r;
    }

    String cniPath() {
        return target.exec().binDir().toString();
    }

    @Override
    public void close() throws IOException {
        boolean interrupted = Thread.interrupted();
        List<String> leftovers = new ArrayList<>();
        try {
            List<Attachment> todo;
            synchronized (attached) {
                todo = new ArrayList<>(attached);
            }
            Collections.reverse(todo);
            for (Attachment a : todo) {
                try {
                    String v = CniVersions.isVersion(a.version()) && CniVersions.KNOWN.contains(a.version())
                            ? a.version() : target.versions().isEmpty() ? "1.0.0" : target.versions().get(0);
                    del(v, Optional.ofNullable(a.netns()).filter(p -> !p.isEmpty()), a.containerId(), Optional.empty());
                } catch (IOException | RuntimeException e) {
                    LOG.atDebug().addKeyValue("container_id", a.containerId()).log("cleanup DEL failed: " + e);
                }
            }
            for (String n : netns) {
                target.host().deleteNetns(n);
                if (Files.exists(Path.of(HostNet.netnsPath(n)))) {
                    leftovers.add("netns " + n);
                }
            }
            if (bridge().isPresent()) {
                for (String l : target.host().hostLinksWithMaster(bridge)) {
                    target.host().deleteHostLink(l);
                }
                target.host().deleteHostLink(bridge);
                if (target.host().hostLink(bridge).isPresent()) {
                    leftovers.add("bridge " + bridge);
                }
            }
            deleteTree(dataDir);
            restoreIpForward();
        } catch (InterruptedException e) {
            interrupted = true;
            leftovers.add("cleanup interrupted");
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (!leftovers.isEmpty()) {
            throw new IOException("cleanup could not remove: " + String.join(", ", leftovers));
        }
    }

    private void restoreIpForward() {
        // The bridge plugin turns forwarding on for isGateway; put the host back as it was, and never
        // turn it off when it was already on (other users of the host may rely on it).
        if (ipForwardBefore.equals(Optional.of("0")) && HostNet.ipForward().equals(Optional.of("1"))) {
            try {
                HostNet.setIpForward("0");
            } catch (IOException e) {
                LOG.atWarn().log("could not restore net.ipv4.ip_forward=0: " + e.getMessage());
            }
        }
    }

    private static String versionOf(String stdin) {
        try {
            return NetConfs.JSON.readTree(stdin).path("cniVersion").asText("");
        } catch (IOException e) {
            return "";
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
