package dev.nodekit.cni.install;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.CodeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import dev.nodekit.cni.api.CniDispatcher;
import dev.nodekit.cni.bridge.BridgePlugin;
import dev.nodekit.cni.hostlocal.HostLocalPlugin;
import dev.nodekit.cni.launch.PluginMain;
import dev.nodekit.cni.launch.Training;
import dev.nodekit.cni.loopback.LoopbackPlugin;
import dev.nodekit.common.cli.BuildInfo;
import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.exec.Executables;
import dev.nodekit.spec.cni.NetConf;

/**
 * Installs nodekit's CNI plugins on a node: the five jars an executable needs into the lib dir, a
 * class-data archive trained on every plugin path, one self-contained {@code #!/bin/sh} JVM launcher
 * per plugin, the thin client in front of the CNI daemon, and a conflist.
 *
 * <h2>Layout</h2>
 * <pre>
 * &lt;bin-dir&gt;/nodekit-bridge, nodekit-host-local, nodekit-loopback, loopback   the thin client (one copy per name),
 *                                                                       or the JVM launchers with --client jvm
 * &lt;bin-dir&gt;/nodekit-cni-client.conf     socket=, fallback_dir=, connect/ready/request timeouts
 * &lt;lib-dir&gt;/launchers/&lt;name&gt;           the JVM launchers: the client's fallback when the daemon is down
 * &lt;lib-dir&gt;/nodekit-cni-client(.c)      the client, compiled here with gcc (or --client-binary)
 * &lt;lib-dir&gt;/*.jar, nodekit-cni.jsa|aot  the executables' class path and class-data archive
 * &lt;lib-dir&gt;/jvm/                         a copy of the JVM, with --bundle-jvm
 * </pre>
 *
 * <h2>The launcher</h2>
 * <pre>
 * #!/bin/sh
 * # nodekit-cni-launcher: nodekit-bridge ...
 * NODEKIT_LOG_LEVEL="${NODEKIT_LOG_LEVEL:-warn}"; export NODEKIT_LOG_LEVEL
 * A=; [ -f /opt/nodekit/cni/nodekit-cni.jsa ] &amp;&amp; A=-XX:SharedArchiveFile=/opt/nodekit/cni/nodekit-cni.jsa
 * exec /usr/lib/jvm/java-17-openjdk-amd64/bin/java &lt;flags&gt; $A -cp &lt;5 jars&gt; dev.nodekit.cni.launch.PluginMain nodekit-bridge
 * </pre>
 * The JVM's absolute path is recorded because runtimes exec plugins with a minimal environment. The
 * class path is exactly cni-plugin, spec, common (for the SLF4J binding), jackson-core and slf4j-api:
 * no gRPC, Netty, databind or OSHI. VM output and unified-logging warnings (such as a stale archive
 * after a JDK upgrade) are sent to stderr, because stdout carries the CNI result. A missing archive
 * only costs speed.
 *
 * <h2>The thin client</h2>
 * {@code nodekit-cni-client.c} (about 400 lines of C, a resource of this module) forwards the call as
 * raw bytes to {@code nodekit cni daemon} and falls back to the JVM launcher of its name when the
 * daemon cannot take it (see the source's header and {@link dev.nodekit.cni.daemon.CniWire}). It is
 * compiled at install with {@code gcc} (static when the C library allows, which saves the dynamic
 * loader on every call), or a prebuilt one is copied; it reads its settings from
 * {@code nodekit-cni-client.conf} next to itself, so one binary serves any layout. Without a compiler
 * ({@link InstallSpec.ClientMode#AUTO}) the bin dir gets the JVM launchers and a note says so.
 *
 * <h2>The archive</h2>
 * {@link Training} runs every plugin's commands once with {@code -XX:ArchiveClassesAtExit} (JDK 17 to
 * 24, a dynamic AppCDS archive) or {@code -XX:AOTCacheOutput} (JDK 25 and later, an AOT cache with
 * classes loaded and linked ahead of time); launchers then map it with {@code -XX:SharedArchiveFile} or
 * {@code -XX:AOTCache}. Both need a class path of jar files, which is why class directories (a
 * development build) are packed into jars first.
 *
 * <h2>What is never overwritten without {@code --force}</h2>
 * An existing conflist of the same name with other content (checked before anything is written; the
 * same content is left as it is, so a DaemonSet's init container can run again), and a file in the
 * bin dir that is not nodekit's (a Go plugin of the same name). nodekit's launchers and clients are
 * replaced.
 */
public final class CniInstaller {
    /** The plugin executables installed. */
    public static final List<String> PLUGINS = List.of(BridgePlugin.TYPE, HostLocalPlugin.TYPE, LoopbackPlugin.TYPE);
    /** The name containerd runs for the loopback interface, installed as nodekit's loopback unless a Go one is there. */
    public static final String LOOPBACK_ALIAS = "loopback";
    /** The thin client's settings file, next to the clients in the bin dir. */
    public static final String CLIENT_CONF = "nodekit-cni-client.conf";
    /** The string a thin client binary holds (see nodekit-cni-client.c), so a reinstall may replace it. */
    public static final String CLIENT_MARK = "# nodekit-cni-launcher: thin client, protocol 1";
    static final String CLIENT_FILE = "nodekit-cni-client";
    static final String CLIENT_SOURCE = "nodekit-cni-client.c";
    /** The line that marks a file as a nodekit launcher (replaced without --force). */
    public static final String LAUNCHER_MARK = "# nodekit-cni-launcher";
    /** The JVM flags of every launcher (and of the training run, which must match). */
    public static final List<String> JVM_FLAGS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            "-XX:-UsePerfData", "-Xms8m", "-Xmx128m", "-Xss512k", "-XX:+ExitOnOutOfMemoryError",
            "-XX:+DisplayVMOutputToStderr", "-Xlog:disable", "-Xlog:all=warning:stderr");

    static final String CDS_FILE = "nodekit-cni.jsa";
    static final String AOT_FILE = "nodekit-cni.aot";
    private static final Pattern VERSION = Pattern.compile("version \"(\\d+)(?:\\.(\\d+))?");
    private static final Set<PosixFilePermission> EXEC = PosixFilePermissions.fromString("rwxr-xr-x");
    private static final Set<PosixFilePermission> READ = PosixFilePermissions.fromString("rw-r--r--");
    private static final long MAX_CLIENT_BYTES = 8L << 20;

    private final CommandRunner runner;
    private final Duration trainingTimeout;

    /** An installer running {@code java} through {@code runner}. */
    public CniInstaller(CommandRunner runner, Duration trainingTimeout) {
        if (runner == null || trainingTimeout == null) {
            throw new IllegalArgumentException("runner and trainingTimeout are required");
        }
        this.runner = runner;
        this.trainingTimeout = trainingTimeout;
    }

    /**
     * What an install did.
     *
     * @param javaFeature the JVM's feature version (17, 21, 25...)
     * @param java        the JVM the launchers run (the bundled copy with --bundle-jvm)
     * @param jars        the jars in the lib dir, in class path order
     * @param archive     the archive built, when one was
     * @param launchers   the executables written into the bin dir (thin clients or JVM launchers)
     * @param kept        files left alone (a Go {@code loopback}, for instance)
     * @param conflist    the conflist written or found identical, when subnets were given
     * @param client      the thin client installed, when one was
     * @param systemdUnit the systemd unit written, when one was
     * @param notes       warnings worth printing (an archive that could not be built)
     */
    public record Report(int javaFeature, Path java, List<Path> jars, Optional<Path> archive, List<Path> launchers,
            List<Path> kept, Optional<Path> conflist, Optional<Path> client, Optional<Path> systemdUnit, List<String> notes) {
        public Report {
            jars = List.copyOf(jars);
            launchers = List.copyOf(launchers);
            kept = List.copyOf(kept);
            notes = List.copyOf(notes);
        }
    }

    /**
     * Installs according to {@code spec}.
     *
     * @throws InstallException when something cannot be installed (nothing is half-written: every file
     *                          is replaced by rename)
     */
    public Report install(InstallSpec spec) throws InstallException {
        Optional<String> conflistText = Optional.empty();
        boolean conflistSame = false;
        if (!spec.subnets().isEmpty()) {
            conflistText = Optional.of(conflist(spec));
            conflistSame = hasContent(spec.conflist(), conflistText.get());
            if (Files.exists(spec.conflist()) && !conflistSame && !spec.force()) {
                throw new InstallException(spec.conflist() + " exists with other content; refusing to overwrite it "
                        + "without --force");
            }
        }
        List<String> notes = new ArrayList<>();
        Path java = spec.bundleJvm() ? JvmBundle.install(spec.java(), spec.libDir().resolve("jvm")) : spec.java();
        int feature = javaFeature(java);
        List<Path> jars = installJars(spec.libDir());
        Optional<Path> archive = Optional.empty();
        if (spec.archive()) {
            try {
                archive = Optional.of(buildArchive(spec, java, feature, jars));
            } catch (InstallException e) {
                notes.add("no class-data archive (plugins work, but start slower): " + e.getMessage());
            }
        }
        List<String> names = new ArrayList<>(PLUGINS);
        if (spec.loopbackAlias()) {
            names.add(LOOPBACK_ALIAS);
        }
        for (String name : names) {
            writeLauncher(spec.launcherDir().resolve(name), typeOf(name), spec, java, feature, jars);
        }
        Optional<Path> client = Optional.empty();
        if (spec.client() != InstallSpec.ClientMode.JVM) {
            try {
                client = Optional.of(installClient(spec));
            } catch (InstallException e) {
                if (spec.client() == InstallSpec.ClientMode.THIN) {
                    throw e;
                }
                notes.add("the bin dir gets the JVM launchers (every call starts a JVM; no daemon is used): "
                        + e.getMessage());
            }
        }
        List<Path> launchers = new ArrayList<>();
        List<Path> kept = new ArrayList<>();
        for (String name : names) {
            Path target = spec.binDir().resolve(name);
            if (isForeign(target) && !spec.force()) {
                if (name.equals(LOOPBACK_ALIAS)) {
                    kept.add(target);
                    continue;
                }
                throw new InstallException(target + " exists and is not nodekit's; refusing to replace it without --force");
            }
            if (client.isPresent()) {
                copy(client.get(), target, EXEC);
            } else {
                writeLauncher(target, typeOf(name), spec, java, feature, jars);
            }
            launchers.add(target);
        }
        Path clientConf = spec.binDir().resolve(CLIENT_CONF);
        if (client.isPresent()) {
            write(clientConf, clientConf(spec).getBytes(StandardCharsets.UTF_8), READ);
        } else {
            deleteQuietly(clientConf);
        }
        Optional<Path> conflist = Optional.empty();
        if (conflistText.isPresent()) {
            if (!conflistSame) {
                write(spec.conflist(), conflistText.get().getBytes(StandardCharsets.UTF_8), READ);
            }
            conflist = Optional.of(spec.conflist());
        }
        Optional<Path> unit = Optional.empty();
        if (spec.systemdUnit().isPresent()) {
            InstallSpec.SystemdUnit u = spec.systemdUnit().get();
            write(u.file(), systemdUnit(spec, u).getBytes(StandardCharsets.UTF_8), READ);
            unit = Optional.of(u.file());
        }
        return new Report(feature, java, jars, archive, launchers, kept, conflist, client, unit, notes);
    }

    private static String typeOf(String name) {
        return name.equals(LOOPBACK_ALIAS) ? LoopbackPlugin.TYPE : name;
    }

    private static boolean hasContent(Path p, String text) throws InstallException {
        if (!Files.isRegularFile(p)) {
            return false;
        }
        try {
            return Files.readString(p).equals(text);
        } catch (IOException e) {
            throw new InstallException("cannot read " + p + ": " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ java

    /** The feature version of {@code java} (from {@code java -version}); 17 or later is required. */
    int javaFeature(Path java) throws InstallException {
        if (!Files.isExecutable(java) || Files.isDirectory(java)) {
            throw new InstallException("--java " + java + " is not an executable");
        }
        CommandResult r = run(Command.of(java.toString(), "-version").withTimeout(Duration.ofSeconds(60)), "java -version");
        Matcher m = VERSION.matcher(r.stderr() + r.stdout());
        if (!m.find()) {
            throw new InstallException("cannot tell the version of " + java + " from: " + r.stderr().strip());
        }
        int major = Integer.parseInt(m.group(1));
        int feature = major == 1 && m.group(2) != null ? Integer.parseInt(m.group(2)) : major;
        if (feature < 17) {
            throw new InstallException(java + " is Java " + feature + "; the CNI plugins need Java 17 or later");
        }
        return feature;
    }

    // ------------------------------------------------------------------ jars

    /**
     * The jars an executable needs, located from this JVM's class path by a class they contain: the
     * module jar when running from a packaged build, a jar packed from the class directory otherwise.
     */
    static List<Source> sources() throws InstallException {
        List<Source> out = new ArrayList<>();
        out.add(new Source("nodekit-cni-plugin.jar", location(CniDispatcher.class)));
        out.add(new Source("nodekit-spec.jar", location(NetConf.class)));
        out.add(new Source("nodekit-common.jar", location(CommandRunner.class)));
        out.add(new Source("jackson-core.jar", location(JsonFactory.class)));
        out.add(new Source("slf4j-api.jar", location(org.slf4j.LoggerFactory.class)));
        return out;
    }

    /** A jar to install: its name in the lib dir and where it comes from (a jar or a class directory). */
    record Source(String name, Path from) {
    }

    private static Path location(Class<?> c) throws InstallException {
        CodeSource cs = c.getProtectionDomain().getCodeSource();
        if (cs == null || cs.getLocation() == null) {
            throw new InstallException("cannot locate the jar of " + c.getName());
        }
        try {
            return Path.of(cs.getLocation().toURI());
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new InstallException("cannot locate the jar of " + c.getName() + ": " + e.getMessage());
        }
    }

    private List<Path> installJars(Path libDir) throws InstallException {
        List<Path> out = new ArrayList<>();
        try {
            Files.createDirectories(libDir);
            for (Source s : sources()) {
                Path target = libDir.resolve(s.name());
                Path tmp = libDir.resolve("." + s.name() + ".tmp");
                if (Files.isDirectory(s.from())) {
                    packJar(s.from(), tmp);
                } else {
                    Files.copy(s.from(), tmp, StandardCopyOption.REPLACE_EXISTING);
                }
                Files.setPosixFilePermissions(tmp, READ);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                out.add(target);
            }
        } catch (IOException e) {
            throw new InstallException("cannot install jars into " + libDir + ": " + e.getMessage());
        }
        return out;
    }

    private static void packJar(Path dir, Path jar) throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            s.filter(Files::isRegularFile).sorted(Comparator.naturalOrder()).forEach(files::add);
        }
        try (OutputStream os = Files.newOutputStream(jar); JarOutputStream jos = new JarOutputStream(os)) {
            for (Path f : files) {
                String name = dir.relativize(f).toString().replace('\\', '/');
                JarEntry e = new JarEntry(name);
                e.setTime(Files.getLastModifiedTime(f).toMillis());
                jos.putNextEntry(e);
                try (InputStream in = Files.newInputStream(f)) {
                    in.transferTo(jos);
                }
                jos.closeEntry();
            }
        }
    }

    // ------------------------------------------------------------------ archive

    private Path buildArchive(InstallSpec spec, Path java, int feature, List<Path> jars) throws InstallException {
        boolean aot = feature >= 25;
        Path archive = spec.libDir().resolve(aot ? AOT_FILE : CDS_FILE);
        Path tmp = spec.libDir().resolve("." + archive.getFileName() + ".tmp");
        Path scratch = spec.libDir().resolve(".training");
        List<String> argv = new ArrayList<>();
        argv.add(java.toString());
        argv.addAll(JVM_FLAGS);
        argv.add(aot ? "-XX:AOTCacheOutput=" + tmp : "-XX:ArchiveClassesAtExit=" + tmp);
        argv.add("-cp");
        argv.add(classPath(jars));
        argv.add(Training.class.getName());
        argv.add(scratch.toString());
        try {
            Files.deleteIfExists(tmp);
            CommandResult r = run(Command.of(argv).withTimeout(trainingTimeout), "training run");
            if (!r.succeeded() || !Files.isRegularFile(tmp)) {
                throw new InstallException("training run exited " + r.exitCode() + ": " + r.stderrTail());
            }
            Files.setPosixFilePermissions(tmp, READ);
            Files.move(tmp, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            // The other kind of archive, from an install with another JDK, is stale now.
            Files.deleteIfExists(spec.libDir().resolve(aot ? CDS_FILE : AOT_FILE));
            return archive;
        } catch (IOException e) {
            throw new InstallException("cannot write " + archive + ": " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ launchers

    /** The launcher script of {@code type}, running {@code java}. */
    static String launcher(String type, InstallSpec spec, Path java, int feature, List<Path> jars) {
        Path archive = spec.libDir().resolve(feature >= 25 ? AOT_FILE : CDS_FILE);
        String archiveFlag = (feature >= 25 ? "-XX:AOTCache=" : "-XX:SharedArchiveFile=") + archive;
        StringBuilder sb = new StringBuilder(1024);
        sb.append("#!/bin/sh\n");
        sb.append(LAUNCHER_MARK).append(": ").append(type).append(" (nodekit ")
                .append(BuildInfo.current().versionWithCommit()).append(", Java ").append(feature).append(")\n");
        sb.append("# Written by 'nodekit cni install'; a reinstall replaces it. The runtime execs it once per\n");
        sb.append("# CNI call with a minimal environment, hence the absolute JVM path.\n");
        sb.append("NODEKIT_LOG_LEVEL=\"${NODEKIT_LOG_LEVEL:-").append(spec.logLevel().toLowerCase(Locale.ROOT))
                .append("}\"\nexport NODEKIT_LOG_LEVEL\n");
        if (spec.logFile().isPresent()) {
            sb.append("NODEKIT_LOG_FILE=\"${NODEKIT_LOG_FILE:-").append(spec.logFile().get()).append("}\"\n");
            sb.append("export NODEKIT_LOG_FILE\n");
        }
        sb.append("A=\n[ -f ").append(archive).append(" ] && A=").append(archiveFlag).append('\n');
        sb.append("exec ").append(java);
        for (String f : JVM_FLAGS) {
            sb.append(' ').append(f);
        }
        sb.append(" $A -cp ").append(classPath(jars)).append(' ').append(PluginMain.class.getName()).append(' ')
                .append(type).append(" \"$@\"\n");
        return sb.toString();
    }

    private void writeLauncher(Path target, String type, InstallSpec spec, Path java, int feature, List<Path> jars)
            throws InstallException {
        write(target, launcher(type, spec, java, feature, jars).getBytes(StandardCharsets.UTF_8), EXEC);
    }

    /** Whether {@code p} exists and is neither a nodekit launcher nor a nodekit thin client. */
    static boolean isForeign(Path p) throws InstallException {
        if (!Files.exists(p)) {
            return false;
        }
        if (!Files.isRegularFile(p)) {
            return true;
        }
        try (InputStream in = Files.newInputStream(p)) {
            byte[] head = in.readNBytes(512);
            if (new String(head, StandardCharsets.ISO_8859_1).contains(LAUNCHER_MARK)) {
                return false;
            }
            boolean elf = head.length > 4 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F';
            return !(elf && Files.size(p) <= MAX_CLIENT_BYTES && containsMark(p));
        } catch (IOException e) {
            throw new InstallException("cannot read " + p + ": " + e.getMessage());
        }
    }

    private static boolean containsMark(Path p) throws IOException {
        return new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1).contains(CLIENT_MARK);
    }

    // ------------------------------------------------------------------ thin client

    /**
     * Puts the thin client into the lib dir: the prebuilt one given, or one compiled from the source
     * shipped in this jar.
     *
     * @return the installed binary
     * @throws InstallException when none can be had (no compiler, a compile error, a foreign binary)
     */
    private Path installClient(InstallSpec spec) throws InstallException {
        Path target = spec.libDir().resolve(CLIENT_FILE);
        if (spec.clientBinary().isPresent()) {
            Path given = spec.clientBinary().get();
            try {
                if (!Files.isRegularFile(given) || Files.size(given) > MAX_CLIENT_BYTES || !containsMark(given)) {
                    throw new InstallException("--client-binary " + given + " is not a nodekit CNI client of protocol 1");
                }
            } catch (IOException e) {
                throw new InstallException("cannot read --client-binary " + given + ": " + e.getMessage());
            }
            copy(given, target, EXEC);
            return target;
        }
        Optional<Path> cc = Executables.which("gcc");
        if (cc.isEmpty()) {
            cc = Executables.which("cc");
        }
        if (cc.isEmpty()) {
            throw new InstallException("no C compiler (gcc or cc) to build the thin client; install gcc or pass "
                    + "--client-binary");
        }
        Path source = spec.libDir().resolve(CLIENT_SOURCE);
        try (InputStream in = CniInstaller.class.getResourceAsStream("/dev/nodekit/cni/daemon/" + CLIENT_SOURCE)) {
            if (in == null) {
                throw new InstallException(CLIENT_SOURCE + " is missing from the nodekit-cni-plugin jar");
            }
            write(source, in.readAllBytes(), READ);
        } catch (IOException e) {
            throw new InstallException("cannot write " + source + ": " + e.getMessage());
        }
        Path tmp = spec.libDir().resolve("." + CLIENT_FILE + ".tmp");
        String problem = "";
        // Static first: no dynamic loader on every call. A C library without static archives falls back.
        for (boolean linkStatic : new boolean[] {true, false}) {
            List<String> argv = new ArrayList<>(List.of(cc.get().toString(), "-O2", "-std=gnu11", "-Wall"));
            if (linkStatic) {
                argv.add("-static");
            }
            argv.addAll(List.of("-o", tmp.toString(), source.toString()));
            CommandResult r = run(Command.of(argv).withTimeout(Duration.ofMinutes(2)), "compiling the thin client");
            if (r.succeeded() && Files.isRegularFile(tmp)) {
                try {
                    Files.setPosixFilePermissions(tmp, EXEC);
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException e) {
                    throw new InstallException("cannot install " + target + ": " + e.getMessage());
                }
                return target;
            }
            problem = r.stderrTail();
        }
        deleteQuietly(tmp);
        throw new InstallException(cc.get() + " could not compile " + source + ": " + problem);
    }

    /** The thin client's settings (read by nodekit-cni-client.c; keys it does not know are ignored). */
    static String clientConf(InstallSpec spec) {
        InstallSpec.ClientTimeouts t = spec.timeouts();
        return "# Written by 'nodekit cni install': settings of the nodekit CNI thin clients in this directory.\n"
                + "socket=" + spec.daemonSocket() + "\n"
                + "fallback_dir=" + spec.launcherDir() + "\n"
                + "connect_timeout_ms=" + t.connect().toMillis() + "\n"
                + "ready_timeout_ms=" + t.ready().toMillis() + "\n"
                + "request_timeout_ms=" + t.request().toMillis() + "\n";
    }

    /** A unit running the daemon before the runtime, restarted whenever it stops. */
    static String systemdUnit(InstallSpec spec, InstallSpec.SystemdUnit u) {
        StringBuilder sb = new StringBuilder(1024);
        sb.append("# Written by 'nodekit cni install': the daemon behind the thin CNI clients in ").append(spec.binDir())
                .append(".\n# The clients fall back to the JVM launchers in ").append(spec.launcherDir())
                .append(" while it is down.\n");
        sb.append("[Unit]\nDescription=nodekit CNI daemon\n");
        sb.append("Before=containerd.service crio.service kubelet.service\n");
        sb.append("\n[Service]\nType=simple\n");
        sb.append("ExecStart=").append(u.nodekitCommand()).append(" cni daemon --socket ").append(spec.daemonSocket())
                .append(" --conf-dir ").append(spec.confDir());
        if (u.criEndpoint().isPresent()) {
            sb.append(" --cri-endpoint ").append(u.criEndpoint().get());
        }
        sb.append("\nRestart=always\nRestartSec=1\n");
        sb.append("# SIGTERM lets the calls in flight finish (30 s grace).\nKillSignal=SIGTERM\nTimeoutStopSec=45\n");
        sb.append("\n[Install]\nWantedBy=multi-user.target\n");
        return sb.toString();
    }

    private static String classPath(List<Path> jars) {
        StringBuilder sb = new StringBuilder();
        for (Path j : jars) {
            if (sb.length() > 0) {
                sb.append(':');
            }
            sb.append(j);
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ conflist

    /** The conflist: nodekit-bridge with nodekit-host-local, one range set per subnet, masquerade, gateway. */
    static String conflist(InstallSpec spec) throws InstallException {
        StringWriter w = new StringWriter();
        try (JsonGenerator g = new JsonFactory().createGenerator(w)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeStringField("cniVersion", "1.0.0");
            g.writeArrayFieldStart("cniVersions");
            g.writeString("1.0.0");
            g.writeString("1.1.0");
            g.writeEndArray();
            g.writeStringField("name", spec.network());
            g.writeArrayFieldStart("plugins");
            g.writeStartObject();
            g.writeStringField("type", BridgePlugin.TYPE);
            g.writeStringField("bridge", spec.bridge());
            g.writeBooleanField("isGateway", true);
            g.writeBooleanField("isDefaultGateway", true);
            g.writeBooleanField("ipMasq", true);
            g.writeBooleanField("hairpinMode", true);
            g.writeObjectFieldStart("ipam");
            g.writeStringField("type", HostLocalPlugin.TYPE);
            g.writeArrayFieldStart("ranges");
            for (String s : spec.subnets()) {
                g.writeStartArray();
                g.writeStartObject();
                g.writeStringField("subnet", s);
                g.writeEndObject();
                g.writeEndArray();
            }
            g.writeEndArray();
            g.writeEndObject();
            g.writeEndObject();
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new InstallException("cannot render the conflist: " + e.getMessage());
        }
        String text = w.toString() + "\n";
        try {
            // What we write must be what a runtime reads.
            dev.nodekit.spec.cni.NetConfList.parse(text);
        } catch (dev.nodekit.spec.cni.CniException e) {
            throw new InstallException("generated an invalid conflist: " + e.getMessage());
        }
        return text;
    }

    // ------------------------------------------------------------------ files and commands

    private static void write(Path target, byte[] data, Set<PosixFilePermission> mode) throws InstallException {
        Path dir = target.getParent();
        Path tmp = dir.resolve("." + target.getFileName() + ".nodekit.tmp");
        try {
            Files.createDirectories(dir);
            Files.write(tmp, data);
            Files.setPosixFilePermissions(tmp, mode);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // Reported below.
            }
            throw new InstallException("cannot write " + target + ": " + e.getMessage());
        }
    }

    private static void copy(Path from, Path target, Set<PosixFilePermission> mode) throws InstallException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".nodekit.tmp");
        try {
            Files.createDirectories(target.getParent());
            Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(tmp, mode);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new InstallException("cannot write " + target + ": " + e.getMessage());
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // Nothing depends on it.
        }
    }

    private CommandResult run(Command c, String what) throws InstallException {
        try {
            return runner.run(c);
        } catch (CommandException e) {
            throw new InstallException(what + " failed: " + e.getMessage());
        }
    }
}
