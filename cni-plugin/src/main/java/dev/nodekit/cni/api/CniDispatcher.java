package dev.nodekit.cni.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.cni.net.InterfaceNames;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.CniJson;
import dev.nodekit.spec.cni.CniVersion;
import dev.nodekit.spec.cni.DataLoss;
import dev.nodekit.spec.cni.NetConf;
import dev.nodekit.spec.cni.Result;
import dev.nodekit.spec.cni.VersionInfo;

/**
 * The one place that talks to the runtime (Go's {@code skel}): reads the {@code CNI_*} variables and
 * stdin, negotiates the version, calls the {@link CniPlugin}, and prints the result or the error.
 * Everything comes in as parameters ({@link #run}); only a {@code main} passes the real environment
 * and streams, so every path is testable in-process.
 *
 * <p>The checklist, in order (failures are printed on stdout as the spec's error object, exit 1):
 * <ol>
 * <li>{@code CNI_COMMAND} missing: the plugin's {@code about} line and versions on stderr, exit 0
 * (as skel does).</li>
 * <li>Unknown command: code 4. Missing variables the command requires: code 4 naming all of them
 * at once. Malformed {@code CNI_CONTAINERID} or {@code CNI_IFNAME}, or a {@code CNI_ARGS} pair
 * without {@code =}: code 4.</li>
 * <li>VERSION: prints {@code {"cniVersion","supportedVersions"}} without reading stdin.</li>
 * <li>Stdin unreadable: code 5. Not JSON or a malformed {@code cniVersion}: code 6. A version the
 * plugin does not support: code 1. CHECK below 0.4.0, STATUS or GC below 1.1.0: code 1.</li>
 * <li>The configuration is decoded (codes 6/7 naming the field); it must have a {@code name}
 * (code 7).</li>
 * <li>{@code CNI_NETNS} naming the plugin's own network namespace: code 8 unless
 * {@code CNI_NETNS_OVERRIDE=1} (skel's guard against a stale path downing the host's interfaces).</li>
 * <li>The plugin runs; an ADD result is converted to the request's version (attributes that version
 * cannot express are dropped, as libcni does) and printed.</li>
 * </ol>
 * Logs go to the SLF4J binding (stderr or {@code NODEKIT_LOG_FILE}), never to stdout.
 */
public final class CniDispatcher {

    /** Environment variable names. */
    public static final String CNI_COMMAND = "CNI_COMMAND";
    public static final String CNI_CONTAINERID = "CNI_CONTAINERID";
    public static final String CNI_NETNS = "CNI_NETNS";
    public static final String CNI_IFNAME = "CNI_IFNAME";
    public static final String CNI_ARGS = "CNI_ARGS";
    public static final String CNI_PATH = "CNI_PATH";
    public static final String CNI_NETNS_OVERRIDE = "CNI_NETNS_OVERRIDE";

    private static final int EXIT_FAILURE = 1;
    private static final byte[] NEWLINE = {'\n'};

    private final CniPlugin plugin;
    private final Path ownNetns;

    /** A dispatcher for {@code plugin} that guards against {@code /proc/self/ns/net} as CNI_NETNS. */
    public CniDispatcher(CniPlugin plugin) {
        this(plugin, Path.of("/proc/self/ns/net"));
    }

    /** A dispatcher comparing CNI_NETNS with {@code ownNetns} (tests pass a plain file). */
    public CniDispatcher(CniPlugin plugin, Path ownNetns) {
        if (plugin == null || ownNetns == null) {
            throw new IllegalArgumentException("plugin and ownNetns are required");
        }
        this.plugin = plugin;
        this.ownNetns = ownNetns;
    }

    /**
     * Serves one CNI call.
     *
     * @return the process exit code: 0 on success, 1 after printing an error object on {@code stdout}
     */
    public int run(Map<String, String> env, InputStream stdin, OutputStream stdout, OutputStream stderr) {
        long start = System.nanoTime();
        CniVersion version = null;
        CniCommand command = null;
        String containerId = env.get(CNI_CONTAINERID);
        try {
            String name = env.get(CNI_COMMAND);
            if (name == null || name.isEmpty()) {
                writeAbout(stderr);
                return 0;
            }
            command = CniCommand.byName(name);
            if (command == null) {
                throw new CniException(CniError.INVALID_ENVIRONMENT_VARIABLES, "unknown CNI_COMMAND: " + name);
            }
            List<String> missing = missing(env, command);
            if (!missing.isEmpty()) {
                throw new CniException(CniError.INVALID_ENVIRONMENT_VARIABLES, "required env variables ["
                        + String.join(",", missing) + "] missing");
            }
            if (command == CniCommand.VERSION) {
                write(stdout, VersionInfo.of(plugin.supportedVersions()));
                return 0;
            }
            validateEnv(env, command);
            byte[] in = readAll(stdin);
            version = CniVersion.of(in);
            checkVersion(version, command);
            NetConf conf = NetConf.parse(in);
            if (conf.name().isEmpty()) {
                throw new CniException(CniError.INVALID_NETWORK_CONFIG, "missing network name");
            }
            CniRequest request = request(env, command, conf, in);
            checkNetns(request, env);
            serve(request, stdout);
            if (CniLog.debug()) {
                Log.LOG.atDebug().addKeyValue("command", command).addKeyValue("container_id", containerId)
                        .addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000).log("done");
            }
            return 0;
        } catch (CniException e) {
            logFailure(command, containerId, e, start);
            writeError(stdout, e, version);
            return EXIT_FAILURE;
        } catch (RuntimeException e) {
            Log.LOG.atError().addKeyValue("command", command).addKeyValue("container_id", containerId)
                    .setCause(e).log("plugin failed with an unexpected exception");
            writeError(stdout, new CniException(CniError.INTERNAL, "internal error: " + e), version);
            return EXIT_FAILURE;
        }
    }

    private void serve(CniRequest request, OutputStream stdout) throws CniException {
        switch (request.command()) {
            case ADD:
                Result r = plugin.add(request);
                if (r == null) {
                    throw new CniException(CniError.INTERNAL, "plugin returned no result for ADD");
                }
                write(stdout, r.convertTo(request.version(), DataLoss.DROP));
                break;
            case DEL:
                plugin.del(request);
                break;
            case CHECK:
                plugin.check(request);
                break;
            case STATUS:
                plugin.status(request);
                break;
            case GC:
                plugin.gc(request);
                break;
            default:
                throw new CniException(CniError.INVALID_ENVIRONMENT_VARIABLES, "unknown CNI_COMMAND: "
                        + request.command());
        }
    }

    /** The variables {@code command} requires that are missing. */
    private static List<String> missing(Map<String, String> env, CniCommand command) {
        List<String> out = new ArrayList<>(4);
        if (command.needsContainerId() && isEmpty(env.get(CNI_CONTAINERID))) {
            out.add(CNI_CONTAINERID);
        }
        if (command.needsNetns() && isEmpty(env.get(CNI_NETNS))) {
            out.add(CNI_NETNS);
        }
        if (command.needsIfName() && isEmpty(env.get(CNI_IFNAME))) {
            out.add(CNI_IFNAME);
        }
        if (command.needsPath() && isEmpty(env.get(CNI_PATH))) {
            out.add(CNI_PATH);
        }
        return out;
    }

    private static boolean isEmpty(String s) {
        return s == null || s.isEmpty();
    }

    private static void validateEnv(Map<String, String> env, CniCommand command) throws CniException {
        String id = env.get(CNI_CONTAINERID);
        if (!isEmpty(id) && !isValidContainerId(id)) {
            throw new CniException(CniError.INVALID_ENVIRONMENT_VARIABLES, "invalid characters in containerID",
                    "CNI_CONTAINERID '" + id + "' must match [a-zA-Z0-9][a-zA-Z0-9_.-]*");
        }
        String ifName = env.get(CNI_IFNAME);
        if (!isEmpty(ifName)) {
            String p = InterfaceNames.problem(ifName);
            if (p != null) {
                throw new CniException(CniError.INVALID_ENVIRONMENT_VARIABLES, "invalid CNI_IFNAME: " + p);
            }
        }
        String netns = env.get(CNI_NETNS);
        if (!isEmpty(netns) && netns.charAt(0) != '/') {
            throw new CniException(CniError.INVALID_ENVIRONMENT_VARIABLES, "CNI_NETNS must be an absolute path, got '"
                    + netns + "'");
        }
    }

    /** Go's {@code utils.ValidateContainerID}: {@code ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$}. */
    static boolean isValidContainerId(String id) {
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-'))) {
                return false;
            }
        }
        return !id.isEmpty();
    }

    private void checkVersion(CniVersion version, CniCommand command) throws CniException {
        List<CniVersion> supported = plugin.supportedVersions();
        if (!version.isIn(supported)) {
            throw new CniException(CniError.INCOMPATIBLE_CNI_VERSION, "incompatible CNI versions",
                    "config is \"" + version + "\", plugin supports " + quoted(supported));
        }
        if (command == CniCommand.CHECK && version.isBefore(CniVersion.V0_4_0)) {
            throw new CniException(CniError.INCOMPATIBLE_CNI_VERSION, "config version does not allow CHECK",
                    "CHECK exists from CNI 0.4.0; the config is " + version);
        }
        if ((command == CniCommand.STATUS || command == CniCommand.GC) && version.isBefore(CniVersion.V1_1_0)) {
            throw new CniException(CniError.INCOMPATIBLE_CNI_VERSION, "config version does not allow " + command,
                    command + " exists from CNI 1.1.0; the config is " + version);
        }
    }

    private static String quoted(List<CniVersion> versions) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < versions.size(); i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append('"').append(versions.get(i).toString()).append('"');
        }
        return sb.append(']').toString();
    }

    private static CniRequest request(Map<String, String> env, CniCommand command, NetConf conf, byte[] in)
            throws CniException {
        List<Path> path = new ArrayList<>();
        String cniPath = env.get(CNI_PATH);
        if (!isEmpty(cniPath)) {
            for (String p : cniPath.split(":")) {
                if (!p.isEmpty()) {
                    path.add(Path.of(p));
                }
            }
        }
        String netns = env.get(CNI_NETNS);
        return new CniRequest(command, nonEmpty(env.get(CNI_CONTAINERID)),
                isEmpty(netns) ? Optional.empty() : Optional.of(Path.of(netns)), nonEmpty(env.get(CNI_IFNAME)),
                CniArgs.parse(env.get(CNI_ARGS)), path, conf, in, env);
    }

    private static Optional<String> nonEmpty(String s) {
        return isEmpty(s) ? Optional.empty() : Optional.of(s);
    }

    private void checkNetns(CniRequest request, Map<String, String> env) throws CniException {
        CniCommand c = request.command();
        if (request.netns().isEmpty() || "1".equals(env.get(CNI_NETNS_OVERRIDE))
                || !(c == CniCommand.ADD || c == CniCommand.DEL || c == CniCommand.CHECK)) {
            return;
        }
        Path ns = request.netns().get();
        try {
            Object mine = Files.readAttributes(ownNetns, BasicFileAttributes.class).fileKey();
            Object theirs = Files.readAttributes(ns, BasicFileAttributes.class).fileKey();
            if (mine != null && mine.equals(theirs)) {
                throw new CniException(CniError.INVALID_NETNS, "netns " + ns
                        + " is the plugin's own network namespace",
                        "refusing to configure the host namespace; set CNI_NETNS_OVERRIDE=1 to allow it");
            }
        } catch (IOException e) {
            // A netns that cannot be read is the plugin's business (DEL tolerates it, ADD fails on it).
        }
    }

    private static byte[] readAll(InputStream stdin) throws CniException {
        try {
            return stdin.readAllBytes();
        } catch (IOException e) {
            throw new CniException(CniError.IO_FAILURE, "error reading from stdin: " + e.getMessage());
        }
    }

    private void writeAbout(OutputStream stderr) {
        StringBuilder sb = new StringBuilder(plugin.about()).append("\nCNI protocol versions supported: ");
        List<CniVersion> v = plugin.supportedVersions();
        for (int i = 0; i < v.size(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(v.get(i).toString());
        }
        sb.append('\n');
        try {
            stderr.write(sb.toString().getBytes(StandardCharsets.UTF_8));
            stderr.flush();
        } catch (IOException e) {
            // Nowhere left to report it.
        }
    }

    private static void write(OutputStream out, CniJson value) throws CniException {
        try {
            out.write(value.toJson().getBytes(StandardCharsets.UTF_8));
            out.write(NEWLINE);
            out.flush();
        } catch (IOException e) {
            throw new CniException(CniError.IO_FAILURE, "error writing to stdout: " + e.getMessage());
        }
    }

    private static void writeError(OutputStream out, CniException e, CniVersion version) {
        CniVersion v = version != null && version.isKnown() ? version : CniVersion.LATEST;
        try {
            out.write(e.toError(v).toJson().getBytes(StandardCharsets.UTF_8));
            out.write(NEWLINE);
            out.flush();
        } catch (IOException io) {
            Log.LOG.atError().addKeyValue("code", e.code()).log("cannot write the error to stdout: " + io.getMessage());
        }
    }

    private static void logFailure(CniCommand command, String containerId, CniException e, long start) {
        org.slf4j.spi.LoggingEventBuilder b = Log.LOG.atWarn().addKeyValue("command", command)
                .addKeyValue("container_id", containerId).addKeyValue("code", e.code());
        if (e.details().isPresent()) {
            b = b.addKeyValue("details", e.details().get());
        }
        b.addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000).log(e.getMessage());
    }

    /** The logger, created on first use: SLF4J stays unloaded on a successful call (see {@link CniLog}). */
    private static final class Log {
        static final Logger LOG = LoggerFactory.getLogger(CniDispatcher.class);
    }
}
