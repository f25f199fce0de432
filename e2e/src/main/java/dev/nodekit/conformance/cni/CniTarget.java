package dev.nodekit.conformance.cni;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.exec.ProcessCommandRunner;
import dev.nodekit.conformance.CheckFailed;
import dev.nodekit.conformance.CheckSkipped;

/**
 * A CNI plugin under test: a bin dir and the network configuration to send, either generated
 * bridge-style from a plugin and an IPAM name (a per-run bridge, a private /24 nobody on the host
 * uses, the IPAM data dir in a temp dir) or read from a user's file, and the spec versions to test
 * (by default what the plugin's VERSION claims among {@link CniVersions#KNOWN}).
 *
 * <p>Opening a target runs VERSION once and picks the subnet; every check then works in a
 * {@link Sandbox} of its own (netns, bridge, IPAM dir) that it removes when done. {@link #close()}
 * removes the run's temp dir.
 */
public final class CniTarget implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CniTarget.class);

    /** Where the network configuration comes from. */
    public sealed interface Network permits Generated, ConfFile {
    }

    /**
     * A bridge-style configuration generated for {@code plugin} delegating to {@code ipam}
     * (e.g. {@code bridge} + {@code host-local}, or {@code nodekit-bridge} + {@code nodekit-host-local}).
     */
    public record Generated(String plugin, String ipam) implements Network {
        public Generated {
            for (String n : new String[] {plugin, ipam}) {
                if (n == null || !CniExec.PLUGIN_NAME.matcher(n).matches()) {
                    throw new IllegalArgumentException("plugin name '" + n + "' must be a file name in the bin dir");
                }
            }
        }
    }

    /** A user's {@code .conf}/{@code .conflist} with exactly one plugin. */
    public record ConfFile(Path file) implements Network {
        public ConfFile {
            Objects.requireNonNull(file, "file");
        }
    }

    /**
     * What the run is told.
     *
     * @param binDir the directory of plugin executables (also CNI_PATH)
     * @param network generated or from a file
     * @param versions the versions to test; empty = what the plugin claims among the known ones
     * @param execTimeout bound on one plugin call
     */
    public record Config(Path binDir, Network network, Optional<List<String>> versions, Duration execTimeout) {
        public Config {
            Objects.requireNonNull(binDir, "binDir");
            Objects.requireNonNull(network, "network");
            Objects.requireNonNull(versions, "versions");
            versions = versions.map(v -> {
                for (String s : v) {
                    if (!CniVersions.KNOWN.contains(s)) {
                        throw new IllegalArgumentException("version " + s + " is not one of " + CniVersions.KNOWN);
                    }
                }
                if (v.isEmpty()) {
                    throw new IllegalArgumentException("versions must not be empty (leave it out to use the claimed ones)");
                }
                return CniVersions.sorted(v.stream().distinct().toList());
            });
            Objects.requireNonNull(execTimeout, "execTimeout");
            if (execTimeout.isNegative() || execTimeout.isZero()) {
                throw new IllegalArgumentException("execTimeout must be positive");
            }
        }

        /** Generated config for {@code plugin} + {@code ipam}, claimed versions, 30 s per call. */
        public static Config generated(Path binDir, String plugin, String ipam) {
            return new Config(binDir, new Generated(plugin, ipam), Optional.empty(), Duration.ofSeconds(30));
        }

        /** Config from {@code file}, claimed versions, 30 s per call. */
        public static Config confFile(Path binDir, Path file) {
            return new Config(binDir, new ConfFile(file), Optional.empty(), Duration.ofSeconds(30));
        }

        public Config withVersions(List<String> v) {
            return new Config(binDir, network, Optional.of(v), execTimeout);
        }

        public Config withExecTimeout(Duration d) {
            return new Config(binDir, network, versions, d);
        }
    }

    /** A named duration a check measured (for reports and benchmarks), e.g. {@code v100.parallel-add.wall}. */
    public record Measurement(String name, Duration duration) {
        public Measurement {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(duration, "duration");
        }
    }

    private final Config config;
    private final String runId;
    private final Path workDir;
    private final ObjectNode baseConf;
    private final Optional<IpCidr> subnet;
    private final CniExec exec;
    private final HostNet host;
    private final Optional<List<String>> claimed;
    private final Optional<String> versionProblem;
    private final AtomicInteger counter = new AtomicInteger();
    private final List<Measurement> measurements = new ArrayList<>();

    private CniTarget(Config config, String runId, Path workDir, ObjectNode baseConf, Optional<IpCidr> subnet,
            CniExec exec, HostNet host, Optional<List<String>> claimed, Optional<String> versionProblem) {
        this.config = config;
        this.runId = runId;
        this.workDir = workDir;
        this.baseConf = baseConf;
        this.subnet = subnet;
        this.exec = exec;
        this.host = host;
        this.claimed = claimed;
        this.versionProblem = versionProblem;
    }

    /**
     * Checks the bin dir and plugin, reads the config, picks a subnet (generated configs), asks the
     * plugin VERSION. A VERSION that fails does not fail here: every check then fails with the reason.
     */
    public static CniTarget open(Config config) throws IOException, InterruptedException {
        return open(config, ProcessRunner.LOCAL, new ProcessCommandRunner());
    }

    static CniTarget open(Config config, ProcessRunner runner, CommandRunner commands)
            throws IOException, InterruptedException {
        if (!Files.isDirectory(config.binDir())) {
            throw new IOException("--bin-dir " + config.binDir() + " is not a directory");
        }
        byte[] id = new byte[3];
        new SecureRandom().nextBytes(id);
        String runId = HexFormat.of().formatHex(id);
        HostNet host = new HostNet(commands);
        ObjectNode base;
        Optional<IpCidr> subnet = Optional.empty();
        if (config.network() instanceof Generated g) {
            subnet = Optional.of(Subnets.pickFree(host.hostIpv4Prefixes(), new SecureRandom()));
            base = NetConfs.generated(g.plugin(), g.ipam(), "nk-" + runId, subnet.get());
        } else {
            Path f = ((ConfFile) config.network()).file();
            base = NetConfs.fromFile(Files.readString(f), "--conf " + f);
        }
        CniExec exec = new CniExec(config.binDir(), config.execTimeout(), runner);
        String type = base.get("type").asText();
        List<String> binaries = new ArrayList<>(List.of(type));
        if (config.network() instanceof Generated g) {
            binaries.add(g.ipam());
        }
        for (String b : binaries) {
            if (!Files.isExecutable(exec.executable(b))) {
                throw new IOException("plugin " + exec.executable(b) + " does not exist or is not executable");
            }
        }
        Optional<List<String>> claimed = Optional.empty();
        Optional<String> problem = Optional.empty();
        String asked = CniVersions.KNOWN.get(CniVersions.KNOWN.size() - 1);
        ExecResult r = exec.invoke(type, CniEnv.of("VERSION"), "{\"cniVersion\":\"" + asked + "\"}");
        if (!r.succeeded()) {
            problem = Optional.of("VERSION failed: " + r.summary());
        } else {
            try {
                JsonNode v = CniResultRules.parseStdout(r.stdout());
                List<String> s = new ArrayList<>();
                v.path("supportedVersions").forEach(e -> s.add(e.asText()));
                if (!v.path("supportedVersions").isArray()) {
                    problem = Optional.of("VERSION answer has no supportedVersions list: " + ExecResult.shorten(r.stdout()));
                } else {
                    claimed = Optional.of(List.copyOf(s));
                }
            } catch (IOException e) {
                problem = Optional.of("VERSION answer unusable: " + e.getMessage());
            }
        }
        Path workDir = Files.createTempDirectory("nk-cni-" + runId + "-");
        CniTarget t = new CniTarget(config, runId, workDir, base, subnet, exec, host, claimed, problem);
        LOG.atInfo().addKeyValue("run_id", runId).addKeyValue("plugin", type).addKeyValue("bin_dir", config.binDir())
                .addKeyValue("subnet", subnet.map(Object::toString).orElse("from config"))
                .addKeyValue("claimed", claimed.map(Object::toString).orElse("unknown"))
                .addKeyValue("versions", t.versions()).log("CNI target opened");
        return t;
    }

    public Config config() {
        return config;
    }

    /** Six hex digits that prefix every name this run creates (netns {@code nk-<runId>-N}, bridges). */
    public String runId() {
        return runId;
    }

    /** The plugin binary the suite execs (the config's {@code type}). */
    public String pluginType() {
        return baseConf.get("type").asText();
    }

    /** The versions the plugin's VERSION listed (all of them), when VERSION worked. */
    public Optional<List<String>> claimedVersions() {
        return claimed;
    }

    /** The versions this run tests: {@code --versions}, else the claimed ones among the known ones. */
    public List<String> versions() {
        return config.versions().orElseGet(() -> claimed.map(CniVersions::knownAmong).orElse(List.of()));
    }

    /** The /24 of a generated config. */
    public Optional<IpCidr> subnet() {
        return subnet;
    }

    /** True when the config was generated bridge-style (so the suite knows isGateway is set). */
    public boolean generated() {
        return config.network() instanceof Generated;
    }

    public CniExec exec() {
        return exec;
    }

    /** What the checks measured so far, in order. */
    public List<Measurement> measurements() {
        synchronized (measurements) {
            return List.copyOf(measurements);
        }
    }

    void record(String name, Duration d) {
        synchronized (measurements) {
            measurements.add(new Measurement(name, d));
        }
    }

    /**
     * Lets a check for {@code version} go on, or says why not: SKIP when the plugin does not claim
     * it, FAIL when VERSION itself failed (a broken VERSION must not turn the whole run into skips).
     */
    void requireTested(String version) {
        if (config.versions().isPresent()) {
            if (!config.versions().get().contains(version)) {
                throw new CheckSkipped(version + " is not selected by --versions " + config.versions().get());
            }
            return;
        }
        if (versionProblem.isPresent()) {
            throw new CheckFailed(versionProblem.get() + " (so the versions to test are unknown)");
        }
        if (!versions().contains(version)) {
            throw new CheckSkipped("plugin does not claim " + version);
        }
    }

    HostNet host() {
        return host;
    }

    ObjectNode baseConf() {
        return baseConf;
    }

    Path workDir() {
        return workDir;
    }

    int nextId() {
        return counter.incrementAndGet();
    }

    /** A fresh sandbox for one check; close it in {@code finally} (try-with-resources). */
    Sandbox sandbox() throws IOException {
        return new Sandbox(this, nextId());
    }

    /** Removes the run's temp dir (sandboxes already removed their netns, bridges and IPAM dirs). */
    @Override
    public void close() throws IOException {
        if (!Files.exists(workDir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(workDir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
