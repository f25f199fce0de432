package dev.nodekit.cni.gc;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import dev.nodekit.cni.api.CniArgs;
import dev.nodekit.cni.ipam.HostLocalConfig;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.NetConf;
import dev.nodekit.spec.cni.NetConfList;

/**
 * One plugin of a network configuration in the runtime's conf dir, seen from the reconciler: where
 * its host-local allocations live (when its IPAM is {@code host-local} or {@code nodekit-host-local})
 * and whether it sets up masquerade chains named after the network and container ({@code ipMasq} on
 * {@code bridge}, {@code nodekit-bridge} or {@code ptp}).
 *
 * @param network    the network name
 * @param plugin     the plugin type
 * @param source     the file it was read from
 * @param ipam       the host-local configuration, when the plugin's IPAM is host-local style
 * @param masquerade whether the plugin creates masquerade chains
 */
public record ManagedNetwork(String network, String plugin, Path source, Optional<HostLocalConfig> ipam,
        boolean masquerade) {

    private static final List<String> HOST_LOCAL = List.of("host-local", "nodekit-host-local");
    private static final List<String> MASQUERADING = List.of("bridge", "nodekit-bridge", "ptp");

    public ManagedNetwork {
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(plugin, "plugin");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(ipam, "ipam");
    }

    /** What a conf dir reads as: the networks, and files that could not be read (named with the reason). */
    public record ConfDir(List<ManagedNetwork> networks, List<String> problems) {
        public ConfDir {
            networks = List.copyOf(networks);
            problems = List.copyOf(problems);
        }
    }

    /**
     * Reads every {@code .conf}, {@code .conflist} and {@code .json} file of {@code dir} (all of them, not
     * only the first the runtime uses: allocations of a network configured earlier may still be
     * there). A file that does not parse is reported, not fatal.
     *
     * @throws ReconcileException when the directory cannot be listed
     */
    public static ConfDir read(Path dir) throws ReconcileException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (Files.isRegularFile(p) && (n.endsWith(".conf") || n.endsWith(".conflist") || n.endsWith(".json"))) {
                    files.add(p);
                }
            }
        } catch (IOException e) {
            throw new ReconcileException("cannot list CNI conf dir " + dir + ": " + e.getMessage(), e);
        }
        files.sort(null);
        List<ManagedNetwork> out = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Path f : files) {
            try {
                byte[] data = Files.readAllBytes(f);
                List<NetConf> plugins = new ArrayList<>();
                if (f.getFileName().toString().endsWith(".conflist")) {
                    NetConfList list = NetConfList.parse(data);
                    for (int i = 0; i < list.plugins().size(); i++) {
                        plugins.add(list.pluginConfig(i));
                    }
                } else {
                    plugins.add(NetConf.parse(data));
                }
                for (NetConf c : plugins) {
                    of(c, f).ifPresent(out::add);
                }
            } catch (IOException e) {
                problems.add(f + ": " + e.getMessage());
            } catch (CniException e) {
                problems.add(f + ": " + e.getMessage());
            }
        }
        return new ConfDir(out, problems);
    }

    /** The plugin seen from the reconciler, empty when it has neither host-local IPAM nor masquerade. */
    static Optional<ManagedNetwork> of(NetConf c, Path source) throws CniException {
        if (c.name().isEmpty()) {
            return Optional.empty();
        }
        Optional<HostLocalConfig> ipam = Optional.empty();
        if (c.ipam().isPresent() && c.ipam().get().type().isPresent() && HOST_LOCAL.contains(c.ipam().get().type().get())) {
            ipam = Optional.of(HostLocalConfig.from(c, CniArgs.EMPTY));
        } else if (HOST_LOCAL.contains(c.type())) {
            ipam = Optional.of(HostLocalConfig.from(c, CniArgs.EMPTY));
        }
        boolean masq = MASQUERADING.contains(c.type()) && c.ipMasq().orElse(false);
        if (ipam.isEmpty() && !masq) {
            return Optional.empty();
        }
        return Optional.of(new ManagedNetwork(c.name().get(), c.type(), source, ipam, masq));
    }
}
