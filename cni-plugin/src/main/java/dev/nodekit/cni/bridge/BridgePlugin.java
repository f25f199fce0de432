package dev.nodekit.cni.bridge;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.cni.api.CniCommand;
import dev.nodekit.cni.api.CniPlugin;
import dev.nodekit.cni.api.CniRequest;
import dev.nodekit.cni.api.Delegates;
import dev.nodekit.cni.api.CniLog;
import dev.nodekit.cni.net.IpAddress;
import dev.nodekit.cni.net.IpBatch;
import dev.nodekit.cni.net.IpMasq;
import dev.nodekit.cni.net.IpNetwork;
import dev.nodekit.cni.net.LinkState;
import dev.nodekit.cni.net.MacAddress;
import dev.nodekit.cni.net.NetNs;
import dev.nodekit.cni.net.NoSuchNetNsException;
import dev.nodekit.cni.net.RouteState;
import dev.nodekit.cni.net.SysfsLinks;
import dev.nodekit.cni.net.Sysctls;
import dev.nodekit.common.cli.BuildInfo;
import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.exec.CommandTimeoutException;
import dev.nodekit.common.exec.Executables;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.CniVersion;
import dev.nodekit.spec.cni.Dns;
import dev.nodekit.spec.cni.GcAttachment;
import dev.nodekit.spec.cni.Interface;
import dev.nodekit.spec.cni.IpConfig;
import dev.nodekit.spec.cni.Result;
import dev.nodekit.spec.cni.Route;

/**
 * {@code nodekit-bridge}: a Linux bridge on the host and a veth pair per container, the container end
 * configured with the addresses its IPAM delegate hands out; the behaviour and configuration of the
 * Go {@code bridge} plugin (see {@link BridgeConfig}), built on two or three execs per ADD instead of
 * netlink calls.
 *
 * <h2>ADD, step by step</h2>
 * <ol>
 * <li>Validate everything (config, names, MAC) before touching anything.</li>
 * <li>Create the bridge when {@code /sys/class/net} does not show it (MAC pinned, so it does not
 * change as ports come and go).</li>
 * <li>IPAM ADD through the delegate (in-process for {@code nodekit-host-local}); undone by IPAM DEL
 * if a later step fails.</li>
 * <li>One host {@code ip -batch}: the veth pair created with its peer directly in the pod's netns
 * (MACs chosen up front, so nothing needs to be read back), the host end on the bridge with hairpin /
 * isolation, both up, then the bridge's addresses read in the same exec. A missing gateway address is
 * added by a second exec (once per bridge).</li>
 * <li>One {@code nsenter --net=<netns>} exec: sysctls ({@code accept_dad=0}, {@code arp_notify=1},
 * IPv6 enabled when needed), link up, addresses ({@code nodad} unless {@code enabledad}), routes.</li>
 * <li>Masquerade rules when {@code ipMasq}; then the result: bridge, host veth, container interface.</li>
 * </ol>
 * Every step after the first side effect pushes its undo; a failure runs them in reverse order, so
 * bad input or a failed step leaves no veth, rule or allocation behind.
 *
 * <h2>DEL</h2>
 * Deletes the container interface (and with it the veth pair) when the netns still exists, releases
 * the IPAM allocation, and removes the masquerade chain, which is named after network and container
 * and so found without the (possibly gone) addresses. Each missing piece is success.
 */
public final class BridgePlugin implements CniPlugin {

    /** The executable name. */
    public static final String TYPE = "nodekit-bridge";

    private static final int CONTAINER_INTERFACE = 2;
    private static final long[] PORT_UP_WAITS_MS = {0, 50, 500, 1000, 1000};
    private static final Duration DAD_TIMEOUT = Duration.ofSeconds(10);

    private final CommandRunner runner;
    private final Delegates delegates;
    private final SysfsLinks sysfs;
    private final Sysctls sysctls;
    private final IpMasq masq;
    private final Random random;

    /**
     * A bridge plugin.
     *
     * @param runner    runs {@code ip}, {@code nsenter}, {@code bridge} and {@code iptables}
     * @param delegates resolves the IPAM delegate
     * @param sysfs     the host's {@code /sys/class/net}
     * @param sysctls   the host's {@code /proc/sys}
     * @param masq      masquerade rules
     * @param random    source of veth names and MACs
     */
    public BridgePlugin(CommandRunner runner, Delegates delegates, SysfsLinks sysfs, Sysctls sysctls, IpMasq masq,
            Random random) {
        if (runner == null || delegates == null || sysfs == null || sysctls == null || masq == null || random == null) {
            throw new IllegalArgumentException("all arguments are required");
        }
        this.runner = runner;
        this.delegates = delegates;
        this.sysfs = sysfs;
        this.sysctls = sysctls;
        this.masq = masq;
        this.random = random;
    }

    // ------------------------------------------------------------------ ADD

    @Override
    public Result add(CniRequest request) throws CniException {
        BridgeConfig cfg = BridgeConfig.from(request.config(), request.args());
        String containerId = request.requiredContainerId();
        String ifName = request.requiredIfName();
        Path netnsPath = request.requiredNetns();
        NetNs container = NetNs.at(netnsPath, runner);
        NetNs host = NetNs.host(runner);
        if (!container.exists()) {
            throw new NoSuchNetNsException(netnsPath, "does not exist");
        }
        Undo undo = new Undo();
        boolean ok = false;
        try {
            ensureBridge(cfg, host);

            Result ipam = null;
            if (cfg.isLayer3()) {
                CniPlugin delegate = delegates.forType(cfg.ipamType().get());
                ipam = delegate.add(request.as(CniCommand.ADD)).convertTo(CniVersion.LATEST);
                undo.push("IPAM DEL", new Undo.Action() {
                    @Override
                    public void run() throws CniException {
                        delegate.del(request.as(CniCommand.DEL));
                    }
                });
                if (ipam.ips().isEmpty()) {
                    throw new CniException(CniError.INTERNAL, "IPAM plugin returned missing IP config");
                }
            }
            Gateways gws = Gateways.of(cfg, ipam);

            String hostVeth = newVethName();
            String hostMac = MacAddress.random(random);
            String containerMac = cfg.mac().isPresent() ? cfg.mac().get() : MacAddress.random(random);
            IpBatch hostBatch = new IpBatch();
            List<String> veth = new ArrayList<>(List.of("link", "add", hostVeth));
            if (cfg.mtu() > 0) {
                veth.add("mtu");
                veth.add(Integer.toString(cfg.mtu()));
            }
            veth.addAll(List.of("address", hostMac, "type", "veth", "peer", "name", ifName));
            if (cfg.mtu() > 0) {
                veth.add("mtu");
                veth.add(Integer.toString(cfg.mtu()));
            }
            veth.addAll(List.of("address", containerMac, "netns", netnsPath.toString()));
            hostBatch.add(veth);
            hostBatch.add("link", "set", "dev", hostVeth, "master", cfg.bridge());
            if (cfg.hairpinMode()) {
                hostBatch.add("link", "set", "dev", hostVeth, "type", "bridge_slave", "hairpin", "on");
            }
            if (cfg.portIsolation()) {
                hostBatch.add("link", "set", "dev", hostVeth, "type", "bridge_slave", "isolated", "on");
            }
            hostBatch.add("link", "set", "dev", hostVeth, "up");
            if (cfg.promiscMode()) {
                hostBatch.add("link", "set", "dev", cfg.bridge(), "promisc", "on");
            }
            hostBatch.add("link", "set", "dev", cfg.bridge(), "up");
            String gwDevice = cfg.vlan() != 0 && cfg.isGateway() ? vlanDevice(cfg) : cfg.bridge();
            Optional<LinkState> bridgeState;
            try {
                bridgeState = host.applyThenRead(hostBatch, cfg.bridge());
            } catch (CniException e) {
                if (sysfs.exists(hostVeth)) {
                    undo.push("delete " + hostVeth, deleteLink(host, hostVeth));
                }
                if (e.getMessage().contains("File exists")) {
                    throw new CniException(CniError.INTERNAL, "container interface " + ifName + " already exists in "
                            + netnsPath, e.getMessage());
                }
                throw e;
            }
            undo.push("delete " + hostVeth, deleteLink(host, hostVeth));
            if (bridgeState.isEmpty()) {
                throw new CniException(CniError.INTERNAL, "bridge " + cfg.bridge() + " vanished during ADD");
            }
            setupVlans(cfg, hostVeth);
            if (cfg.isGateway() && !gws.all().isEmpty()) {
                Optional<LinkState> gwState = bridgeState;
                if (cfg.vlan() != 0) {
                    gwState = ensureVlanGateway(cfg, host);
                }
                ensureGatewayAddresses(cfg, host, gwDevice, gwState.orElse(null), gws);
                if (!gws.v4.isEmpty()) {
                    sysctls.ensure("net/ipv4/ip_forward", "1");
                }
                if (!gws.v6.isEmpty()) {
                    sysctls.ensure("net/ipv6/conf/all/forwarding", "1");
                }
            }

            configureContainer(cfg, container, ifName, ipam, gws.routes);
            waitForPortUp(hostVeth);

            if (cfg.ipMasq() && ipam != null) {
                String chain = IpMasq.chainName(request.networkName(), containerId);
                List<IpNetwork> addrs = new ArrayList<>();
                for (IpConfig ip : ipam.ips()) {
                    addrs.add(IpNetwork.parse(ip.address()));
                }
                undo.push("masquerade teardown", new Undo.Action() {
                    @Override
                    public void run() throws CniException {
                        if (hasFamily(addrs, 4)) {
                            masq.teardown(chain, 4);
                        }
                        if (hasFamily(addrs, 6)) {
                            masq.teardown(chain, 6);
                        }
                    }
                });
                masq.setup(chain, IpMasq.comment(request.networkName(), containerId), addrs);
            }

            Result result = result(cfg, request, hostVeth, hostMac, containerMac, ipam, gws);
            ok = true;
            return result;
        } finally {
            if (!ok) {
                undo.run(containerId);
            }
        }
    }

    private void ensureBridge(BridgeConfig cfg, NetNs host) throws CniException {
        String br = cfg.bridge();
        if (sysfs.exists(br)) {
            if (!sysfs.isBridge(br)) {
                throw new CniException(CniError.INTERNAL, "\"" + br + "\" already exists but is not a bridge");
            }
            return;
        }
        List<String> line = new ArrayList<>(List.of("link", "add", br));
        if (cfg.mtu() > 0) {
            line.add("mtu");
            line.add(Integer.toString(cfg.mtu()));
        }
        line.addAll(List.of("address", MacAddress.random(random), "type", "bridge"));
        if (cfg.vlanFiltering()) {
            line.add("vlan_filtering");
            line.add("1");
        }
        try {
            host.apply(new IpBatch().add(line));
            Log.LOG.atInfo().addKeyValue("bridge", br).log("created bridge");
        } catch (CniException e) {
            // Another ADD may have created it in the meantime.
            if (!sysfs.isBridge(br)) {
                throw new CniException(CniError.INTERNAL, "could not add \"" + br + "\": " + e.getMessage(),
                        e.details().orElse(null));
            }
        }
        // We own the bridge's routes.
        sysctls.ensureIfPresent("net/ipv6/conf/" + br + "/accept_ra", "0");
    }

    private String newVethName() throws CniException {
        for (int i = 0; i < 10; i++) {
            String name = "veth" + Integer.toHexString(random.nextInt() | 0x10000000);
            if (!sysfs.exists(name)) {
                return name;
            }
        }
        throw new CniException(CniError.INTERNAL, "could not find a free veth name");
    }

    private static String vlanDevice(BridgeConfig cfg) {
        return cfg.bridge() + "." + cfg.vlan();
    }

    /** VLAN tagging of the container's port with the {@code bridge} tool (the only non-ip exec). */
    private void setupVlans(BridgeConfig cfg, String port) throws CniException {
        if (!cfg.vlanFiltering()) {
            return;
        }
        StringBuilder in = new StringBuilder();
        if (!cfg.preserveDefaultVlan()) {
            in.append("vlan del dev ").append(port).append(" vid 1\n");
        }
        if (cfg.vlan() != 0) {
            in.append("vlan add dev ").append(port).append(" vid ").append(cfg.vlan()).append(" pvid untagged master\n");
        }
        for (int id : cfg.vlanTrunk()) {
            in.append("vlan add dev ").append(port).append(" vid ").append(id).append(" master\n");
        }
        runChecked(Command.of("bridge", "-batch", "-").withStdin(in.toString()), "bridge vlan");
    }

    /**
     * The VLAN gateway interface {@code <bridge>.<vlan>} of the Go plugin: a veth pair on the host
     * whose one end is an access port of the VLAN on the bridge and whose other end holds the gateway
     * address. Created once per bridge and VLAN.
     */
    private Optional<LinkState> ensureVlanGateway(BridgeConfig cfg, NetNs host) throws CniException {
        String name = vlanDevice(cfg);
        if (!sysfs.exists(name)) {
            String peer = newVethName();
            IpBatch b = new IpBatch().add("link", "add", name, "type", "veth", "peer", "name", peer)
                    .add("link", "set", "dev", peer, "master", cfg.bridge())
                    .add("link", "set", "dev", peer, "up")
                    .add("link", "set", "dev", name, "up");
            host.apply(b);
            StringBuilder in = new StringBuilder();
            if (!cfg.preserveDefaultVlan()) {
                in.append("vlan del dev ").append(peer).append(" vid 1\n");
            }
            in.append("vlan add dev ").append(peer).append(" vid ").append(cfg.vlan()).append(" pvid untagged master\n");
            runChecked(Command.of("bridge", "-batch", "-").withStdin(in.toString()), "bridge vlan");
        }
        return host.link(name);
    }

    /**
     * Go's {@code ensureAddr}: the gateway address (gateway/prefix) on the bridge. Present: nothing to
     * do. Another IPv4 address, or an overlapping IPv6 one: replaced with {@code forceAddress}, an
     * error otherwise.
     */
    private void ensureGatewayAddresses(BridgeConfig cfg, NetNs host, String device, LinkState state, Gateways gws)
            throws CniException {
        IpBatch fix = new IpBatch();
        for (IpNetwork gw : gws.all()) {
            boolean present = false;
            List<IpNetwork> conflicts = new ArrayList<>();
            if (state != null) {
                for (LinkState.AddressState a : state.addresses()) {
                    IpNetwork have = a.address();
                    if (have.family() != gw.family() || !"global".equals(a.scope())) {
                        continue;
                    }
                    if (have.equals(gw)) {
                        present = true;
                    } else if (gw.family() == 4 || have.contains(gw.address()) || gw.contains(have.address())) {
                        conflicts.add(have);
                    }
                }
            }
            if (present && conflicts.isEmpty()) {
                continue;
            }
            if (!conflicts.isEmpty()) {
                if (!cfg.forceAddress()) {
                    throw new CniException(CniError.INTERNAL, "\"" + device + "\" already has an IP address different from "
                            + gw + " (" + conflicts.get(0) + "); set forceAddress to replace it");
                }
                for (IpNetwork c : conflicts) {
                    fix.add("addr", "del", c.toString(), "dev", device);
                }
            }
            if (!present) {
                if (gw.family() == 6 && !cfg.enableDad()) {
                    fix.add("addr", "replace", gw.toString(), "dev", device, "nodad");
                } else {
                    fix.add("addr", "replace", gw.toString(), "dev", device);
                }
            }
        }
        if (!fix.isEmpty()) {
            Optional<String> mac = sysfs.mac(device);
            if (mac.isPresent() && device.equals(cfg.bridge())) {
                // Pin the bridge's MAC (Go does this when it sets an address), so ports do not change it.
                fix.add("link", "set", "dev", device, "address", mac.get());
            }
            host.apply(fix);
        }
    }

    /** Sysctls, link up, addresses and {@code routes} (the IPAM's plus the default routes) in the pod's namespace. */
    private void configureContainer(BridgeConfig cfg, NetNs container, String ifName, Result ipam, List<Route> routes)
            throws CniException {
        Map<String, String> sysctl = new LinkedHashMap<>();
        IpBatch b = new IpBatch();
        if (cfg.enableDad()) {
            sysctl.put("net/ipv6/conf/" + ifName + "/enhanced_dad", "1");
            sysctl.put("net/ipv6/conf/" + ifName + "/accept_dad", "1");
        } else {
            sysctl.put("net/ipv6/conf/" + ifName + "/accept_dad", "0");
        }
        sysctl.put("net/ipv4/conf/" + ifName + "/arp_notify", "1");
        if (cfg.disableContainerInterface()) {
            container.apply(b, sysctl);
            return;
        }
        b.add("link", "set", "dev", ifName, "up");
        boolean v6 = false;
        if (ipam != null) {
            IpAddress gw4 = null;
            IpAddress gw6 = null;
            for (IpConfig ip : ipam.ips()) {
                IpNetwork a = IpNetwork.parse(ip.address());
                if (a.family() == 6) {
                    v6 = true;
                    b.add(cfg.enableDad() ? List.of("addr", "add", a.toString(), "dev", ifName)
                            : List.of("addr", "add", a.toString(), "dev", ifName, "nodad"));
                } else {
                    b.add("addr", "add", a.toString(), "dev", ifName);
                }
                if (ip.gateway().isPresent()) {
                    IpAddress g = IpAddress.parse(ip.gateway().get());
                    if (g.isV4() && gw4 == null) {
                        gw4 = g;
                    } else if (!g.isV4() && gw6 == null) {
                        gw6 = g;
                    }
                }
            }
            for (Route r : routes) {
                IpNetwork dst = IpNetwork.parse(r.dst());
                IpAddress gw = r.gw().isPresent() ? IpAddress.parse(r.gw().get()) : dst.family() == 6 ? gw6 : gw4;
                List<String> line = new ArrayList<>(List.of("route", "add", dst.network().toString()));
                if (gw != null) {
                    line.add("via");
                    line.add(gw.toString());
                }
                line.add("dev");
                line.add(ifName);
                routeAttributes(r, line);
                b.add(line);
            }
        }
        if (v6) {
            sysctl.put("net/ipv6/conf/lo/disable_ipv6", "0");
            sysctl.put("net/ipv6/conf/" + ifName + "/disable_ipv6", "0");
        }
        container.apply(b, sysctl);
        if (v6 && cfg.enableDad()) {
            settleAddresses(container, ifName);
        }
    }

    private static void routeAttributes(Route r, List<String> line) {
        if (r.mtu() > 0) {
            line.add("mtu");
            line.add(Integer.toString(r.mtu()));
        }
        if (r.advmss() > 0) {
            line.add("advmss");
            line.add(Integer.toString(r.advmss()));
        }
        if (r.priority() > 0) {
            line.add("metric");
            line.add(Integer.toString(r.priority()));
        }
        if (r.table().isPresent()) {
            line.add("table");
            line.add(Integer.toString(r.table().getAsInt()));
        }
        if (r.scope().isPresent()) {
            line.add("scope");
            line.add(Integer.toString(r.scope().getAsInt()));
        }
    }

    /** With {@code enabledad}: wait (bounded) until no address is tentative, as Go's SettleAddresses does. */
    private static void settleAddresses(NetNs container, String ifName) throws CniException {
        long deadline = System.nanoTime() + DAD_TIMEOUT.toNanos();
        while (true) {
            Optional<LinkState> l = container.link(ifName);
            boolean tentative = false;
            if (l.isPresent()) {
                for (LinkState.AddressState a : l.get().addresses()) {
                    if (a.dadFailed()) {
                        throw new CniException(CniError.INTERNAL, "duplicate address detection failed for "
                                + a.address() + " on " + ifName);
                    }
                    tentative |= a.tentative();
                }
            }
            if (!tentative) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new CniException(CniError.TRY_AGAIN_LATER, "IPv6 addresses on " + ifName
                        + " still tentative after " + DAD_TIMEOUT.toSeconds() + " s");
            }
            sleep(100);
        }
    }

    private void waitForPortUp(String hostVeth) throws CniException {
        for (long wait : PORT_UP_WAITS_MS) {
            if (wait > 0) {
                sleep(wait);
            }
            Optional<String> state = sysfs.operState(hostVeth);
            if (state.isEmpty()) {
                throw new CniException(CniError.INTERNAL, "host veth " + hostVeth + " disappeared");
            }
            if ("up".equals(state.get())) {
                return;
            }
        }
        throw new CniException(CniError.INTERNAL, "bridge port in error state: " + sysfs.operState(hostVeth).orElse("?"));
    }

    private static void sleep(long ms) throws CniException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CniException(CniError.TRY_AGAIN_LATER, "interrupted");
        }
    }

    private Result result(BridgeConfig cfg, CniRequest request, String hostVeth, String hostMac, String containerMac,
            Result ipam, Gateways gws) {
        List<Interface> ifs = new ArrayList<>(4);
        Interface br = Interface.host(cfg.bridge(), sysfs.mac(cfg.bridge()).orElse(null));
        Interface hv = Interface.host(hostVeth, hostMac);
        Interface cont = Interface.container(request.ifName().get(), containerMac, request.netns().get().toString());
        if (cfg.mtu() > 0) {
            hv = hv.withMtu(cfg.mtu());
            cont = cont.withMtu(cfg.mtu());
            br = br.withMtu(cfg.mtu());
        }
        ifs.add(br);
        ifs.add(hv);
        ifs.add(cont);
        if (cfg.vlan() != 0 && cfg.isGateway() && ipam != null) {
            String v = vlanDevice(cfg);
            ifs.add(Interface.host(v, sysfs.mac(v).orElse(null)));
        }
        if (ipam == null) {
            return Result.of(CniVersion.LATEST, ifs, List.of(), List.of(), dns(request, null));
        }
        List<IpConfig> ips = new ArrayList<>(ipam.ips().size());
        for (IpConfig ip : ipam.ips()) {
            IpConfig withIf = ip.withInterface(CONTAINER_INTERFACE);
            if (ip.gateway().isEmpty() && cfg.isGateway()) {
                IpNetwork a = IpNetwork.parse(ip.address());
                withIf = new IpConfig(ip.address(), Optional.of(a.networkAddress().next().toString()),
                        OptionalInt.of(CONTAINER_INTERFACE), ip.extra());
            }
            ips.add(withIf);
        }
        return Result.of(CniVersion.LATEST, ifs, ips, gws.routes, dns(request, ipam));
    }

    /** The configuration's {@code dns} when set, else the IPAM's (as the Go plugin does). */
    private static Optional<Dns> dns(CniRequest request, Result ipam) {
        Optional<Dns> conf = request.config().dns();
        if (conf.isPresent() && !conf.get().isEmpty()) {
            return conf;
        }
        return ipam == null ? Optional.empty() : ipam.dns();
    }

    private static Undo.Action deleteLink(NetNs host, String name) {
        return new Undo.Action() {
            @Override
            public void run() throws CniException {
                host.deleteLink(name);
            }
        };
    }

    private static boolean hasFamily(List<IpNetwork> addrs, int family) {
        for (IpNetwork a : addrs) {
            if (a.family() == family) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ DEL

    @Override
    public void del(CniRequest request) throws CniException {
        BridgeConfig cfg = BridgeConfig.from(request.config(), request.args());
        String containerId = request.requiredContainerId();
        String ifName = request.requiredIfName();
        List<String> problems = new ArrayList<>();
        if (request.netns().isPresent()) {
            NetNs container = NetNs.at(request.netns().get(), runner);
            try {
                container.deleteLink(ifName);
            } catch (NoSuchNetNsException gone) {
                if (CniLog.debug()) {
                    Log.LOG.atDebug().addKeyValue("netns", request.netns().get()).log("netns already gone");
                }
            }
        }
        if (cfg.isLayer3()) {
            delegates.forType(cfg.ipamType().get()).del(request.as(CniCommand.DEL));
        }
        if (cfg.ipMasq() && cfg.isLayer3()) {
            String chain = IpMasq.chainName(request.networkName(), containerId);
            boolean[] families = masqFamilies(request);
            for (int family = 4; family <= 6; family += 2) {
                if (!families[family == 4 ? 0 : 1]) {
                    continue;
                }
                try {
                    masq.teardown(chain, family);
                } catch (CniException e) {
                    problems.add(e.details().isPresent() ? e.getMessage() + ": " + e.details().get() : e.getMessage());
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new CniException(CniError.INTERNAL, "could not remove masquerade rules", String.join("; ", problems));
        }
    }

    /**
     * The families whose masquerade chain DEL removes: those of the prevResult's addresses when there
     * is one, else IPv4 and (when ip6tables is installed) IPv6.
     */
    private static boolean[] masqFamilies(CniRequest request) {
        boolean[] f = new boolean[2];
        if (request.config().prevResult().isPresent() && !request.config().prevResult().get().ips().isEmpty()) {
            for (IpConfig ip : request.config().prevResult().get().ips()) {
                IpNetwork a = IpNetwork.parseOrNull(ip.address());
                if (a != null) {
                    f[a.family() == 4 ? 0 : 1] = true;
                }
            }
            return f;
        }
        f[0] = true;
        f[1] = Executables.which("ip6tables-restore").isPresent();
        return f;
    }

    // ------------------------------------------------------------------ CHECK

    @Override
    public void check(CniRequest request) throws CniException {
        BridgeConfig cfg = BridgeConfig.from(request.config(), request.args());
        String ifName = request.requiredIfName();
        Path netnsPath = request.requiredNetns();
        if (cfg.isLayer3()) {
            delegates.forType(cfg.ipamType().get()).check(request.as(CniCommand.CHECK));
        }
        if (request.config().prevResult().isEmpty()) {
            throw new CniException(CniError.INVALID_NETWORK_CONFIG, "Required prevResult missing");
        }
        Result prev = request.config().prevResult().get().convertTo(CniVersion.LATEST);
        Interface brIf = null;
        Interface contIf = null;
        for (Interface i : prev.interfaces()) {
            if (i.name().equals(cfg.bridge()) && i.sandbox().isEmpty()) {
                brIf = i;
            } else if (i.name().equals(ifName) && i.sandbox().isPresent()
                    && i.sandbox().get().equals(netnsPath.toString())) {
                contIf = i;
            }
        }
        // Bridge.
        if (!sysfs.isBridge(cfg.bridge())) {
            throw new CniException(CniError.INTERNAL, "CNI created bridge " + cfg.bridge()
                    + " in host namespace was not found");
        }
        if (brIf != null && brIf.mac().isPresent() && !brIf.mac().get().equals(sysfs.mac(cfg.bridge()).orElse(""))) {
            throw new CniException(CniError.INTERNAL, "Bridge interface " + cfg.bridge() + " Mac doesn't match: "
                    + brIf.mac().get());
        }
        if (sysfs.promiscuous(cfg.bridge()) != cfg.promiscMode()) {
            throw new CniException(CniError.INTERNAL, "Bridge interface " + cfg.bridge() + " configured Promisc Mode "
                    + cfg.promiscMode() + " doesn't match current state");
        }
        if (contIf == null) {
            throw new CniException(CniError.INTERNAL, "Sandbox in prevResult doesn't match configured netns: "
                    + netnsPath + " (no interface " + ifName + " with that sandbox)");
        }
        // Container interface.
        NetNs container = NetNs.at(netnsPath, runner);
        Optional<LinkState> c = container.link(ifName);
        if (c.isEmpty()) {
            throw new CniException(CniError.INTERNAL, "CNI created interface in container " + ifName + " not found");
        }
        LinkState cl = c.get();
        if (cl.kind().isPresent() && !"veth".equals(cl.kind().get())) {
            throw new CniException(CniError.INTERNAL, "Error: Container interface " + ifName + " not of type veth");
        }
        if (contIf.mac().isPresent() && !contIf.mac().get().equals(cl.mac().orElse(""))) {
            throw new CniException(CniError.INTERNAL, "Interface " + ifName + " Mac " + contIf.mac().get()
                    + " doesn't match container Mac: " + cl.mac().orElse("?"));
        }
        // The host veth that peers with it and sits on the bridge.
        boolean vethFound = false;
        for (Interface i : prev.interfaces()) {
            if (i == brIf || i == contIf || i.sandbox().isPresent() || !sysfs.exists(i.name())) {
                continue;
            }
            OptionalInt idx = sysfs.index(i.name());
            OptionalInt peer = sysfs.peerIndex(i.name());
            if (idx.isEmpty() || peer.isEmpty() || cl.peerIndex().isEmpty()) {
                continue;
            }
            if (idx.getAsInt() == cl.peerIndex().getAsInt() && peer.getAsInt() == cl.index()
                    && cfg.bridge().equals(sysfs.master(i.name()).orElse(null))) {
                if (i.mac().isPresent() && !i.mac().get().equals(sysfs.mac(i.name()).orElse(""))) {
                    throw new CniException(CniError.INTERNAL, "Interface " + i.name() + " Mac doesn't match: "
                            + i.mac().get() + " not found");
                }
                vethFound = true;
                break;
            }
        }
        if (!vethFound) {
            throw new CniException(CniError.INTERNAL, "CNI veth created for bridge " + cfg.bridge() + " was not found");
        }
        // Addresses and routes.
        for (IpConfig ip : prev.ips()) {
            if (ip.interfaceIndex().isPresent() && ip.interfaceIndex().getAsInt() < prev.interfaces().size()
                    && prev.interfaces().get(ip.interfaceIndex().getAsInt()) != contIf) {
                continue;
            }
            IpNetwork a = IpNetwork.parse(ip.address());
            if (!cl.has(a)) {
                throw new CniException(CniError.INTERNAL, "Failed to match addr " + a + " on interface " + ifName);
            }
        }
        checkRoutes(container, prev.routes(), ifName);
        if (cfg.ipMasq() && cfg.isLayer3()) {
            String chain = IpMasq.chainName(request.networkName(), request.requiredContainerId());
            for (IpConfig ip : prev.ips()) {
                IpAddress a = IpNetwork.parse(ip.address()).address();
                if (!masq.isSetUp(chain, a)) {
                    throw new CniException(CniError.INTERNAL, "masquerade rule for " + a + " (chain " + chain
                            + ") is missing");
                }
            }
        }
    }

    private static void checkRoutes(NetNs container, List<Route> expected, String ifName) throws CniException {
        List<RouteState> v4 = null;
        List<RouteState> v6 = null;
        for (Route r : expected) {
            IpNetwork dst = IpNetwork.parse(r.dst()).network();
            List<RouteState> have;
            if (dst.family() == 6) {
                v6 = v6 == null ? container.routes(6) : v6;
                have = v6;
            } else {
                v4 = v4 == null ? container.routes(4) : v4;
                have = v4;
            }
            boolean found = false;
            for (RouteState s : have) {
                if (!s.destination().equals(dst)) {
                    continue;
                }
                if (r.gw().isPresent()) {
                    found |= s.gateway().isPresent() && s.gateway().get().equals(IpAddress.parse(r.gw().get()));
                } else {
                    found = true;
                }
            }
            if (!found) {
                throw new CniException(CniError.INTERNAL, "Failed to find route " + dst
                        + (r.gw().isPresent() ? " via " + r.gw().get() : "") + " in the container (" + ifName + ")");
            }
        }
    }

    // ------------------------------------------------------------------ STATUS and GC

    /** Forwards to the IPAM; with {@code ipMasq}, also requires iptables to be installed. */
    @Override
    public void status(CniRequest request) throws CniException {
        BridgeConfig cfg = BridgeConfig.from(request.config(), request.args());
        if (cfg.ipMasq() && Executables.which("iptables-restore").isEmpty()) {
            throw new CniException(CniError.PLUGIN_NOT_AVAILABLE, "ipMasq is set but iptables-restore is not installed");
        }
        if (cfg.isLayer3()) {
            delegates.forType(cfg.ipamType().get()).status(request.as(CniCommand.STATUS));
        }
    }

    /**
     * Forwards to the IPAM, and removes the masquerade chains of this network whose container is not
     * among the valid attachments (found by the rule comments). Continues past failures and reports
     * them together.
     */
    @Override
    public void gc(CniRequest request) throws CniException {
        BridgeConfig cfg = BridgeConfig.from(request.config(), request.args());
        List<String> problems = new ArrayList<>();
        if (cfg.isLayer3()) {
            try {
                delegates.forType(cfg.ipamType().get()).gc(request.as(CniCommand.GC));
            } catch (CniException e) {
                problems.add("IPAM GC: " + e.getMessage());
            }
        }
        if (cfg.ipMasq() && cfg.isLayer3()) {
            List<GcAttachment> valid = request.config().gcAttachments().orElse(null);
            if (valid != null) {
                for (int family = 4; family <= 6; family += 2) {
                    if (family == 6 && Executables.which("ip6tables").isEmpty()) {
                        continue;
                    }
                    try {
                        for (String id : masq.containerIds(request.networkName(), family)) {
                            if (!isValidId(valid, id)) {
                                masq.teardown(IpMasq.chainName(request.networkName(), id), family);
                                Log.LOG.atInfo().addKeyValue("container_id", id).addKeyValue("family", family)
                                        .log("GC removed masquerade rules of a container that is not valid");
                            }
                        }
                    } catch (CniException e) {
                        problems.add("masquerade GC (IPv" + family + "): " + e.getMessage());
                    }
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new CniException(CniError.INTERNAL, "GC failed in part", String.join("; ", problems));
        }
    }

    private static boolean isValidId(List<GcAttachment> valid, String id) {
        for (GcAttachment a : valid) {
            if (a.containerID().equals(id)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String about() {
        return TYPE + " " + BuildInfo.current().versionWithCommit() + " (bridge compatible)";
    }

    private void runChecked(Command c, String what) throws CniException {
        CommandResult r;
        try {
            r = runner.run(c.withTimeout(NetNs.DEFAULT_TIMEOUT));
        } catch (CommandTimeoutException e) {
            throw new CniException(CniError.TRY_AGAIN_LATER, what + " did not finish in time");
        } catch (CommandException e) {
            throw new CniException(CniError.INTERNAL, "cannot run " + what + ": " + e.getMessage());
        }
        if (!r.succeeded()) {
            throw new CniException(CniError.INTERNAL, what + " failed (exit " + r.exitCode() + ")", r.stderr().strip());
        }
    }

    // ------------------------------------------------------------------ helpers

    /** Gateway addresses per family and the routes to return (Go's {@code calcGateways}). */
    static final class Gateways {
        final List<IpNetwork> v4 = new ArrayList<>();
        final List<IpNetwork> v6 = new ArrayList<>();
        final List<Route> routes = new ArrayList<>();

        static Gateways of(BridgeConfig cfg, Result ipam) {
            Gateways g = new Gateways();
            if (ipam == null) {
                return g;
            }
            g.routes.addAll(ipam.routes());
            boolean default4 = false;
            boolean default6 = false;
            for (Route r : ipam.routes()) {
                IpNetwork d = IpNetwork.parse(r.dst());
                if (r.gw().isPresent() && d.prefix() == 0) {
                    default4 |= d.family() == 4;
                    default6 |= d.family() == 6;
                }
            }
            for (IpConfig ip : ipam.ips()) {
                IpNetwork a = IpNetwork.parse(ip.address());
                IpAddress gw = ip.gateway().isPresent() ? IpAddress.parse(ip.gateway().get()) : null;
                if (gw == null && cfg.isGateway()) {
                    gw = a.networkAddress().next();
                }
                if (cfg.isDefaultGateway() && gw != null) {
                    if (a.family() == 4 && !default4) {
                        g.routes.add(Route.of("0.0.0.0/0", gw.toString()));
                        default4 = true;
                    } else if (a.family() == 6 && !default6) {
                        g.routes.add(Route.of("::/0", gw.toString()));
                        default6 = true;
                    }
                }
                if (cfg.isGateway() && gw != null) {
                    IpNetwork gwNet = IpNetwork.of(gw, a.prefix());
                    (a.family() == 4 ? g.v4 : g.v6).add(gwNet);
                }
            }
            return g;
        }

        List<IpNetwork> all() {
            List<IpNetwork> out = new ArrayList<>(v4);
            out.addAll(v6);
            return out;
        }
    }

    /** Undo actions of a half-done ADD, run newest first; failures are logged and do not stop the rest. */
    private static final class Undo {
        private final Deque<Step> steps = new ArrayDeque<>();

        void push(String what, Action a) {
            steps.push(new Step(what, a));
        }

        void run(String containerId) {
            while (!steps.isEmpty()) {
                Step s = steps.pop();
                try {
                    s.action.run();
                } catch (CniException | RuntimeException e) {
                    Log.LOG.atWarn().addKeyValue("container_id", containerId).addKeyValue("step", s.what)
                            .log("undo of a failed ADD failed: " + e.getMessage());
                }
            }
        }

        interface Action {
            void run() throws CniException;
        }

        private static final class Step {
            final String what;
            final Action action;

            Step(String what, Action action) {
                this.what = what;
                this.action = action;
            }
        }
    }

    /** The logger, created on first use: SLF4J stays unloaded on a successful call (see {@link CniLog}). */
    private static final class Log {
        static final Logger LOG = LoggerFactory.getLogger(BridgePlugin.class);
    }
}
