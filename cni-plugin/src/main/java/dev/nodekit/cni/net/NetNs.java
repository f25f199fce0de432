package dev.nodekit.cni.net;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.exec.CommandTimeoutException;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;

/**
 * A network namespace, entered only through child processes: {@code nsenter --net=<path> ip ...}
 * for a namespace given by path (CNI_NETNS is any path; {@code ip -n} only resolves names under
 * /run/netns), plain {@code ip ...} for the plugin's own (host) namespace. The JVM never calls
 * {@code setns}: it moves only the calling thread, and a JVM thread left in the wrong namespace is a
 * silent, node-wide bug.
 *
 * <p>Changes go through {@link #apply(IpBatch)}: every line of the batch in one {@code ip -batch -}
 * exec. Reads go through {@code ip -j -d} and come back as {@link LinkState}/{@link RouteState}.
 * Every exec is bounded by the namespace's timeout; hitting it is {@link CniError#TRY_AGAIN_LATER}.
 * A namespace path that does not exist or is not a network namespace is a
 * {@link NoSuchNetNsException}, which DEL treats as "already gone".
 */
public final class NetNs {
    /** How long one {@code ip}/{@code nsenter} exec may take by default. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    private static final String SYSCTL_SCRIPT = "n=$1; shift; i=0; while [ \"$i\" -lt \"$n\" ]; do "
            + "kv=$1; shift; i=$((i+1)); k=${kv%%=*}; v=${kv#*=}; "
            + "if [ -w \"/proc/sys/$k\" ]; then echo \"$v\" > \"/proc/sys/$k\" || exit 97; fi; done; exec ip \"$@\"";

    private final Path path;
    private final CommandRunner runner;
    private final Duration timeout;

    private NetNs(Path path, CommandRunner runner, Duration timeout) {
        if (runner == null) {
            throw new IllegalArgumentException("runner is null");
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive");
        }
        this.path = path;
        this.runner = runner;
        this.timeout = timeout;
    }

    /** The namespace the plugin runs in (the host's, for a plugin exec'd by a runtime). */
    public static NetNs host(CommandRunner runner) {
        return new NetNs(null, runner, DEFAULT_TIMEOUT);
    }

    /** The namespace at {@code path} (a bind mount such as /run/netns/x, or /proc/PID/ns/net). */
    public static NetNs at(Path path, CommandRunner runner) {
        if (path == null || !path.isAbsolute()) {
            throw new IllegalArgumentException("netns path must be absolute: " + path);
        }
        return new NetNs(path, runner, DEFAULT_TIMEOUT);
    }

    /** This namespace with another bound on each exec. */
    public NetNs withTimeout(Duration t) {
        return new NetNs(path, runner, t);
    }

    /** The path, empty for the host namespace. */
    public Optional<Path> path() {
        return Optional.ofNullable(path);
    }

    /** Whether this is the plugin's own namespace. */
    public boolean isHost() {
        return path == null;
    }

    /** Whether the namespace file exists (always true for the host). It may still not be a namespace. */
    public boolean exists() {
        return path == null || Files.exists(path, LinkOption.NOFOLLOW_LINKS) || Files.exists(path);
    }

    /**
     * Runs every line of {@code batch} in one exec, stopping at the first failure.
     *
     * @throws NoSuchNetNsException when the namespace is gone or the path is not a namespace
     * @throws CniException code 11 on timeout, 999 naming the failing line otherwise
     */
    public void apply(IpBatch batch) throws CniException {
        apply(batch, Map.of());
    }

    /**
     * Writes {@code sysctls} ({@code net/ipv4/conf/eth0/arp_notify} → {@code 1}) inside the namespace,
     * skipping keys that do not exist there (IPv6 disabled), then runs {@code batch}, all in one exec
     * chain. For the host namespace use {@link Sysctls} instead.
     */
    public void apply(IpBatch batch, Map<String, String> sysctls) throws CniException {
        if (batch.isEmpty() && sysctls.isEmpty()) {
            return;
        }
        List<String> ipArgs = List.of("-batch", "-");
        CommandResult r = exec(ipArgs, sysctls, batch.text());
        if (!r.succeeded()) {
            throw failure(r, batch);
        }
    }

    /**
     * Runs {@code batch}, then reads interface {@code name}, in one exec: the state an operation just
     * produced (a bridge's addresses after it was brought up) without a second process.
     *
     * @return the interface, empty when it does not exist after the batch
     */
    public Optional<LinkState> applyThenRead(IpBatch batch, String name) throws CniException {
        IpBatch all = new IpBatch();
        for (String line : batch.lines()) {
            all.add(line.split(" "));
        }
        all.add("addr", "show", "dev", InterfaceNames.check(name, "interface"));
        for (LinkState l : linksFrom(query(all))) {
            if (l.name().equals(name)) {
                return Optional.of(l);
            }
        }
        return Optional.empty();
    }

    /** Every interface with its addresses ({@code ip -j -d addr show}). */
    public List<LinkState> links() throws CniException {
        return linksFrom(query(new IpBatch().add("addr", "show")));
    }

    /** The interface called {@code name}, empty when there is none. */
    public Optional<LinkState> link(String name) throws CniException {
        InterfaceNames.check(name, "interface");
        CommandResult r = exec(List.of("-j", "-d", "addr", "show", "dev", name), Map.of(), "");
        if (!r.succeeded()) {
            if (isNoSuchDevice(r)) {
                return Optional.empty();
            }
            throw failure(r, null);
        }
        List<LinkState> links = linksFrom(r.stdout());
        return links.isEmpty() ? Optional.empty() : Optional.of(links.get(0));
    }

    /** The routes of family 4 or 6 in the main table. */
    public List<RouteState> routes(int family) throws CniException {
        List<String> args = family == 6 ? List.of("-6", "-j", "route", "show") : List.of("-4", "-j", "route", "show");
        CommandResult r = exec(args, Map.of(), "");
        if (!r.succeeded()) {
            throw failure(r, null);
        }
        List<RouteState> out = new ArrayList<>();
        try {
            for (Object v : IpJson.values(r.stdout())) {
                for (Object o : IpJson.list(v)) {
                    RouteState rs = RouteState.fromJson(IpJson.object(o), family);
                    if (rs != null) {
                        out.add(rs);
                    }
                }
            }
        } catch (IOException e) {
            throw new CniException(CniError.INTERNAL, "cannot read 'ip -j route' output: " + e.getMessage());
        }
        return out;
    }

    /**
     * Deletes link {@code name} (for a veth, both ends).
     *
     * @return false when there was no such link
     * @throws NoSuchNetNsException when the namespace is gone
     */
    public boolean deleteLink(String name) throws CniException {
        InterfaceNames.check(name, "interface");
        CommandResult r = exec(List.of("link", "del", "dev", name), Map.of(), "");
        if (r.succeeded()) {
            return true;
        }
        if (isNoSuchDevice(r)) {
            return false;
        }
        throw failure(r, null);
    }

    /** Runs read commands with {@code -j -d} and returns stdout (one JSON array per line). */
    String query(IpBatch batch) throws CniException {
        CommandResult r = exec(List.of("-j", "-d", "-batch", "-"), Map.of(), batch.text());
        if (!r.succeeded()) {
            throw failure(r, batch);
        }
        return r.stdout();
    }

    private static List<LinkState> linksFrom(String json) throws CniException {
        List<LinkState> out = new ArrayList<>();
        try {
            for (Object v : IpJson.values(json)) {
                for (Object o : IpJson.list(v)) {
                    Map<String, Object> m = IpJson.object(o);
                    if (IpJson.string(m, "ifname") != null) {
                        out.add(LinkState.fromJson(m));
                    }
                }
            }
        } catch (IOException e) {
            throw new CniException(CniError.INTERNAL, "cannot read 'ip -j addr' output: " + e.getMessage());
        }
        return out;
    }

    private CommandResult exec(List<String> ipArgs, Map<String, String> sysctls, String stdin) throws CniException {
        if (path != null && !exists()) {
            throw new NoSuchNetNsException(path, "does not exist");
        }
        List<String> argv = new ArrayList<>(12 + ipArgs.size() + sysctls.size());
        if (path != null) {
            argv.add("nsenter");
            argv.add("--net=" + path);
            argv.add("--");
        }
        if (!sysctls.isEmpty()) {
            if (path == null) {
                throw new IllegalArgumentException("sysctls of the host namespace are written with Sysctls");
            }
            argv.add("sh");
            argv.add("-c");
            argv.add(SYSCTL_SCRIPT);
            argv.add("sh");
            argv.add(Integer.toString(sysctls.size()));
            for (Map.Entry<String, String> e : sysctls.entrySet()) {
                argv.add(Sysctls.checkKey(e.getKey()) + "=" + Sysctls.checkValue(e.getValue()));
            }
        } else {
            argv.add("ip");
        }
        argv.addAll(ipArgs);
        Command c = Command.of(argv).withTimeout(timeout);
        if (!stdin.isEmpty()) {
            c = c.withStdin(stdin);
        }
        try {
            return runner.run(c);
        } catch (CommandTimeoutException e) {
            throw new CniException(CniError.TRY_AGAIN_LATER, "'" + c.displayArgv() + "' did not finish within "
                    + timeout.toMillis() + " ms", e.partialStderr().strip());
        } catch (CommandException e) {
            throw new CniException(CniError.INTERNAL, "cannot run '" + c.displayArgv() + "': " + e.getMessage());
        }
    }

    private static boolean isNoSuchDevice(CommandResult r) {
        String err = r.stderr();
        return err.contains("Cannot find device") || err.contains("does not exist");
    }

    private CniException failure(CommandResult r, IpBatch batch) {
        String err = r.stderr().strip();
        if (path != null && err.startsWith("nsenter:")) {
            return new NoSuchNetNsException(path, err);
        }
        if (r.exitCode() == 97) {
            return new CniException(CniError.INTERNAL, "cannot write a sysctl in netns " + path, err);
        }
        String where = "";
        if (batch != null) {
            int at = err.lastIndexOf("Command failed -:");
            if (at >= 0) {
                int n = 0;
                for (int i = at + "Command failed -:".length(); i < err.length(); i++) {
                    char c = err.charAt(i);
                    if (c < '0' || c > '9') {
                        break;
                    }
                    n = n * 10 + (c - '0');
                }
                String line = batch.line(n);
                if (line != null) {
                    where = " at 'ip " + line + "'";
                }
                err = err.substring(0, at).strip();
            }
        }
        String ns = path == null ? "host netns" : "netns " + path;
        return new CniException(CniError.INTERNAL, "ip failed in " + ns + where + ": " + firstLine(err), err);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    @Override
    public String toString() {
        return path == null ? "NetNs[host]" : "NetNs[" + path + "]";
    }
}
