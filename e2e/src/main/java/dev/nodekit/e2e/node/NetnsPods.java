package dev.nodekit.e2e.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.conformance.cni.CniEnv;
import dev.nodekit.conformance.cni.CniExec;
import dev.nodekit.conformance.cni.ExecResult;

/**
 * "Pods" without a runtime: named network namespaces attached by exec'ing the installed plugins the
 * way containerd's libcni does (loopback, then the conflist's plugin, the container id equal to the
 * namespace name), for a host without containerd. Namespace work runs through {@code ip netns} and
 * {@code nsenter --net=}, never {@code setns} on a JVM thread.
 */
public final class NetnsPods {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String LOOPBACK_CONF =
            "{\"cniVersion\":\"1.0.0\",\"name\":\"cni-loopback\",\"type\":\"loopback\"}";

    private final LocalNode node;

    NetnsPods(LocalNode node) {
        this.node = node;
    }

    /**
     * A network namespace with the pod network attached.
     *
     * @param netns   its name under /var/run/netns (also the CNI container id)
     * @param ip      its address on the pod network, without prefix length
     * @param result  the plugin's ADD result
     */
    public record NetnsPod(String netns, String ip, String result) {
        /** The namespace's path, what CNI_NETNS carries. */
        public Path path() {
            return Path.of("/var/run/netns", netns);
        }
    }

    /** {@code ip netns add NAME}, then ADD of loopback and of the conflist's plugin; returns the attached namespace. */
    public NetnsPod add(String netns) throws IOException {
        if (!node.marks().netnsNames().contains(netns)) {
            throw new IllegalArgumentException("netns '" + netns + "' is not one of the run's " + node.marks().netnsNames());
        }
        CommandResult r = node.run(TIMEOUT, "ip", "netns", "add", netns);
        if (!r.succeeded()) {
            throw new IOException("ip netns add " + netns + ": " + r.stderr().strip());
        }
        node.recordNetns(netns);
        ExecResult lo = exec("loopback", "ADD", netns, "lo", LOOPBACK_CONF);
        if (!lo.succeeded()) {
            throw new IOException("loopback ADD: " + lo.summary());
        }
        PluginConf conf = pluginConf();
        ExecResult add = exec(conf.type(), "ADD", netns, "eth0", conf.json());
        if (!add.succeeded()) {
            throw new IOException(conf.type() + " ADD: " + add.summary());
        }
        JsonNode result = JSON.readTree(add.stdout());
        String address = result.path("ips").path(0).path("address").asText("");
        if (!address.contains("/")) {
            throw new IOException(conf.type() + " ADD returned no address: " + add.stdout());
        }
        return new NetnsPod(netns, address.substring(0, address.indexOf('/')), add.stdout().strip());
    }

    /** {@code nsenter --net=<from> ping -c 1 -W 2 <ip>}. */
    public CommandResult ping(NetnsPod from, String ip) throws IOException {
        return node.run(Duration.ofSeconds(10), "nsenter", "--net=" + from.path(), "ping", "-c", "1", "-W", "2", ip);
    }

    /** DEL of the plugin and loopback, then {@code ip netns del}. */
    public void remove(NetnsPod pod) throws IOException {
        PluginConf conf = pluginConf();
        ExecResult del = exec(conf.type(), "DEL", pod.netns(), "eth0", conf.json());
        if (!del.succeeded()) {
            throw new IOException(conf.type() + " DEL: " + del.summary());
        }
        ExecResult lo = exec("loopback", "DEL", pod.netns(), "lo", LOOPBACK_CONF);
        if (!lo.succeeded()) {
            throw new IOException("loopback DEL: " + lo.summary());
        }
        CommandResult r = node.run(TIMEOUT, "ip", "netns", "del", pod.netns());
        if (!r.succeeded()) {
            throw new IOException("ip netns del " + pod.netns() + ": " + r.stderr().strip());
        }
    }

    /** Teardown: DEL (best effort: DEL of what is gone succeeds) and delete every namespace of {@code names} still there. */
    void removeAll(List<String> names, List<String> problems) {
        for (String ns : names) {
            if (!Files.exists(Path.of("/var/run/netns", ns))) {
                continue;
            }
            try {
                PluginConf conf = pluginConf();
                ExecResult del = exec(conf.type(), "DEL", ns, "eth0", conf.json());
                if (!del.succeeded()) {
                    problems.add(conf.type() + " DEL of " + ns + ": " + del.summary());
                }
            } catch (IOException e) {
                problems.add("DEL of " + ns + ": " + e.getMessage());
            }
            try {
                CommandResult r = node.run(TIMEOUT, "ip", "netns", "del", ns);
                if (!r.succeeded()) {
                    problems.add("ip netns del " + ns + ": " + r.stderr().strip());
                }
            } catch (IOException e) {
                problems.add("ip netns del " + ns + ": " + e.getMessage());
            }
        }
    }

    /** The single plugin of the installed conflist as libcni hands it over: with the list's name and version. */
    record PluginConf(String type, String json) {
    }

    PluginConf pluginConf() throws IOException {
        JsonNode list = JSON.readTree(node.conflist().toFile());
        JsonNode plugins = list.path("plugins");
        if (plugins.size() != 1 || !(plugins.get(0) instanceof ObjectNode p)) {
            throw new IOException(node.conflist() + " must hold exactly one plugin");
        }
        ObjectNode conf = JSON.createObjectNode();
        conf.put("cniVersion", list.path("cniVersion").asText());
        conf.put("name", list.path("name").asText());
        conf.setAll(p);
        return new PluginConf(p.path("type").asText(), JSON.writeValueAsString(conf));
    }

    private ExecResult exec(String plugin, String command, String netns, String ifname, String conf) throws IOException {
        CniExec exec = new CniExec(node.marks().cniBinDir(), TIMEOUT);
        try {
            return exec.invoke(plugin, CniEnv.attachment(command, netns, "/var/run/netns/" + netns, ifname,
                    node.marks().cniBinDir().toString()), conf);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted during " + plugin + " " + command, e);
        }
    }
}
