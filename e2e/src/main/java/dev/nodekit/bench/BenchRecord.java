package dev.nodekit.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import dev.nodekit.common.cli.BuildInfo;

/**
 * One benchmark run, as written to {@code bench/results/*.json}: what ran, on what (commit, JDK,
 * host, CPUs, load average at start — these machines are shared and noisy), against which target
 * and peer, the figures (name -> value, the unit in the name: {@code create_p50_ms}) and the
 * ratios to the peer measured in the same run. BENCHMARKS.md is generated from these files.
 *
 * @param version format version of the JSON file (see {@link #FORMAT_VERSION})
 */
public record BenchRecord(int version, String bench, Instant time, String commit, String jdk, String host, int cpus,
        List<Double> loadAverage, String target, String peer, Map<String, Double> figures,
        Map<String, Double> ratios, Map<String, String> goals, String notes) {
    /** Current format version; readers refuse newer ones. */
    public static final int FORMAT_VERSION = 1;

    public BenchRecord {
        if (version < 1 || version > FORMAT_VERSION) {
            throw new IllegalArgumentException("bench record format version " + version
                    + " is not supported (this nodekit reads 1.." + FORMAT_VERSION + ")");
        }
        Objects.requireNonNull(bench, "bench");
        Objects.requireNonNull(time, "time");
        loadAverage = List.copyOf(loadAverage);
        target = target == null ? "" : target;
        peer = peer == null ? "" : peer;
        figures = Map.copyOf(figures);
        ratios = Map.copyOf(ratios == null ? Map.of() : ratios);
        goals = Map.copyOf(goals == null ? Map.of() : goals);
        notes = notes == null ? "" : notes;
    }

    /** A new record for {@code bench} filled with this machine's facts; add figures with the builder. */
    public static Builder start(String bench) {
        return new Builder(bench);
    }

    /** Collects figures and ratios while a benchmark runs. */
    public static final class Builder {
        private final String bench;
        private final Instant time = Instant.now();
        private final List<Double> load = readLoadAverage();
        private String target = "";
        private String peer = "";
        private String notes = "";
        private final Map<String, Double> figures = new LinkedHashMap<>();
        private final Map<String, Double> ratios = new LinkedHashMap<>();
        private final Map<String, String> goals = new LinkedHashMap<>();

        private Builder(String bench) {
            this.bench = bench;
        }

        public Builder target(String t) {
            this.target = t;
            return this;
        }

        public Builder peer(String p) {
            this.peer = p;
            return this;
        }

        public Builder notes(String n) {
            this.notes = n;
            return this;
        }

        public Builder figure(String name, double value) {
            figures.put(name, value);
            return this;
        }

        /** {@code ratio = ours / peer} for a figure measured on both in this run. */
        public Builder ratio(String name, double value) {
            ratios.put(name, value);
            return this;
        }

        /** The target a figure or ratio must meet, in words ({@code "<= 4x Go"}). */
        public Builder goal(String name, String goal) {
            goals.put(name, goal);
            return this;
        }

        public BenchRecord build() {
            return new BenchRecord(FORMAT_VERSION, bench, time, BuildInfo.current().commit(),
                    System.getProperty("java.vm.name") + " " + Runtime.version(), hostname(),
                    Runtime.getRuntime().availableProcessors(), load, target, peer, figures, ratios, goals, notes);
        }
    }

    static List<Double> readLoadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return List.of(Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    static String hostname() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
