package dev.nodekit.cni.net;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.exec.CommandTimeoutException;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;

/**
 * Source NAT for a container's addresses, laid out exactly as the Go plugins' {@code ip.SetupIPMasq}
 * does so either implementation can tear down what the other set up: a per-container chain in the
 * {@code nat} table named {@code CNI-} + the first 24 hex digits of SHA-512(network name + container
 * id) holding {@code -d <subnet> -j ACCEPT} and {@code ! -d 224.0.0.0/4 -j MASQUERADE}
 * ({@code ff00::/8} for IPv6), and a {@code POSTROUTING -s <address> -j <chain>} jump, each with the
 * comment {@code name: "<network>" id: "<container id>"}.
 *
 * <p>Set-up is one {@code iptables-restore --noflush} per family (declaring the chain flushes it, so a
 * retried ADD does not duplicate the chain's rules). Tear-down lists POSTROUTING once and removes
 * every jump to the chain plus the chain in one restore, so it needs no address: DEL cleans up even
 * when the netns, and with it the container's addresses, is gone. Every call waits at most
 * {@code lockWait} for the xtables lock ({@code -w}); running out of it is
 * {@link CniError#TRY_AGAIN_LATER}.
 */
public final class IpMasq {
    /** The default bound on the xtables lock wait. */
    public static final Duration DEFAULT_LOCK_WAIT = Duration.ofSeconds(10);

    private static final int MAX_CHAIN_LENGTH = 28;
    private static final String CHAIN_PREFIX = "CNI-";
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final CommandRunner runner;
    private final Duration lockWait;

    /** Masquerading through {@code runner}, waiting at most {@code lockWait} (whole seconds, at least 1) for the lock. */
    public IpMasq(CommandRunner runner, Duration lockWait) {
        if (runner == null || lockWait == null) {
            throw new IllegalArgumentException("runner and lockWait are required");
        }
        this.runner = runner;
        this.lockWait = lockWait;
    }

    /** Go's {@code utils.FormatChainName}: {@code CNI-} + hex(SHA-512(name + id)), 28 characters. */
    public static String chainName(String network, String containerId) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-512");
            byte[] d = md.digest((network + containerId).getBytes(StandardCharsets.UTF_8));
            StringBuilder sb = new StringBuilder(MAX_CHAIN_LENGTH).append(CHAIN_PREFIX);
            for (int i = 0; sb.length() < MAX_CHAIN_LENGTH; i++) {
                sb.append(HEX[(d[i] >> 4) & 0xf]);
                if (sb.length() < MAX_CHAIN_LENGTH) {
                    sb.append(HEX[d[i] & 0xf]);
                }
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-512 is missing from this JVM", e);
        }
    }

    /** Go's {@code utils.FormatComment}: {@code name: "<network>" id: "<container id>"}. */
    public static String comment(String network, String containerId) {
        return "name: " + goQuote(network) + " id: " + goQuote(containerId);
    }

    private static String goQuote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.append('"').toString();
    }

    /** The comment quoted for an iptables-restore line. */
    private static String restoreQuote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 8).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.append('"').toString();
    }

    /**
     * Creates (or refills) {@code chain} for {@code addresses} (interface addresses with their prefix)
     * and jumps to it from POSTROUTING for each address.
     */
    public void setup(String chain, String comment, List<IpNetwork> addresses) throws CniException {
        for (int family = 4; family <= 6; family += 2) {
            StringBuilder in = new StringBuilder(512).append("*nat\n:").append(chain).append(" - [0:0]\n");
            boolean any = false;
            String q = restoreQuote(comment);
            for (IpNetwork a : addresses) {
                if (a.family() != family) {
                    continue;
                }
                any = true;
                in.append("-A ").append(chain).append(" -d ").append(a.network().toString())
                        .append(" -j ACCEPT -m comment --comment ").append(q).append('\n');
            }
            if (!any) {
                continue;
            }
            in.append("-A ").append(chain).append(" ! -d ").append(family == 4 ? "224.0.0.0/4" : "ff00::/8")
                    .append(" -j MASQUERADE -m comment --comment ").append(q).append('\n');
            for (IpNetwork a : addresses) {
                if (a.family() == family) {
                    in.append("-A POSTROUTING -s ").append(a.address().toString()).append(" -j ").append(chain)
                            .append(" -m comment --comment ").append(q).append('\n');
                }
            }
            in.append("COMMIT\n");
            restore(family, in.toString());
        }
    }

    /** Removes every POSTROUTING jump to {@code chain} and the chain itself in {@code family}; absent is fine. */
    public void teardown(String chain, int family) throws CniException {
        List<String> jumps = new ArrayList<>();
        for (String line : postrouting(family)) {
            if (jumpsTo(line, chain)) {
                jumps.add("-D" + line.substring(2));
            }
        }
        StringBuilder in = new StringBuilder(256).append("*nat\n:").append(chain).append(" - [0:0]\n");
        for (String j : jumps) {
            in.append(j).append('\n');
        }
        in.append("-X ").append(chain).append("\nCOMMIT\n");
        restore(family, in.toString());
    }

    /** Whether POSTROUTING jumps to {@code chain} for {@code source}. */
    public boolean isSetUp(String chain, IpAddress source) throws CniException {
        String s = source.toString() + (source.isV4() ? "/32" : "/128");
        for (String line : postrouting(source.family())) {
            if (jumpsTo(line, chain) && line.contains(" -s " + s + " ")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The container ids that have a masquerade jump for {@code network} in {@code family}, read from the
     * rule comments (for GC).
     */
    public List<String> containerIds(String network, int family) throws CniException {
        String prefix = "name: " + goQuote(network) + " id: \"";
        List<String> out = new ArrayList<>();
        for (String line : postrouting(family)) {
            String c = commentOf(line);
            if (c != null && c.startsWith(prefix) && c.endsWith("\"")) {
                String id = c.substring(prefix.length(), c.length() - 1);
                if (!out.contains(id)) {
                    out.add(id);
                }
            }
        }
        return out;
    }

    /** The comment of an {@code iptables -S} line, unquoted; null when it has none. */
    static String commentOf(String line) {
        int at = line.indexOf("--comment \"");
        if (at < 0) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = at + "--comment \"".length(); i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && i + 1 < line.length()) {
                sb.append(line.charAt(++i));
            } else if (c == '"') {
                return sb.toString();
            } else {
                sb.append(c);
            }
        }
        return null;
    }

    private static boolean jumpsTo(String line, String chain) {
        return line.startsWith("-A POSTROUTING ") && (line.endsWith(" -j " + chain) || line.contains(" -j " + chain + " "));
    }

    private List<String> postrouting(int family) throws CniException {
        CommandResult r = run(Command.of(family == 6 ? "ip6tables" : "iptables", "-w", waitSeconds(), "-t", "nat",
                "-S", "POSTROUTING"));
        if (!r.succeeded()) {
            throw failed(r, family == 6 ? "ip6tables -S" : "iptables -S");
        }
        List<String> out = new ArrayList<>();
        for (String l : r.stdout().split("\n")) {
            if (l.startsWith("-A ")) {
                out.add(l.strip());
            }
        }
        return out;
    }

    private void restore(int family, String input) throws CniException {
        CommandResult r = run(Command.of(family == 6 ? "ip6tables-restore" : "iptables-restore", "-w", waitSeconds(),
                "--noflush").withStdin(input));
        if (!r.succeeded()) {
            throw failed(r, family == 6 ? "ip6tables-restore" : "iptables-restore");
        }
    }

    private String waitSeconds() {
        return Long.toString(Math.max(1, (lockWait.toMillis() + 999) / 1000));
    }

    private CommandResult run(Command c) throws CniException {
        Command bounded = c.withTimeout(lockWait.plusSeconds(10));
        try {
            return runner.run(bounded);
        } catch (CommandTimeoutException e) {
            throw new CniException(CniError.TRY_AGAIN_LATER, "'" + c.displayArgv() + "' did not finish within "
                    + bounded.timeout().toMillis() + " ms");
        } catch (CommandException e) {
            throw new CniException(CniError.INTERNAL, "cannot run '" + c.displayArgv() + "': " + e.getMessage());
        }
    }

    private static CniException failed(CommandResult r, String what) {
        String err = r.stderr().strip();
        if (err.contains("xtables lock") || err.contains("holding the lock")) {
            return new CniException(CniError.TRY_AGAIN_LATER, what + " could not take the xtables lock in time", err);
        }
        return new CniException(CniError.INTERNAL, what + " failed (exit " + r.exitCode() + ")", err);
    }
}
