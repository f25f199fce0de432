package dev.nodekit.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The benchmark results directory ({@code bench/results} of the repository): one JSON file per run,
 * never edited; BENCHMARKS.md is regenerated from all of them.
 */
public final class BenchStore {
    private static final DateTimeFormatter FILE_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build()
            .registerModule(new InstantModule());

    private final Path dir;

    public BenchStore(Path dir) {
        this.dir = dir;
    }

    /** The default store: {@code $NODEKIT_HOME/bench/results} (the launcher sets it), else {@code ./bench/results}. */
    public static BenchStore defaultStore() {
        String home = System.getenv("NODEKIT_HOME");
        return new BenchStore(Path.of(home == null || home.isBlank() ? "." : home, "bench", "results"));
    }

    public Path dir() {
        return dir;
    }

    /** Writes {@code r} as a new file and returns its path. */
    public Path write(BenchRecord r) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE_TIME.format(r.time()) + "-" + r.bench().replaceAll("[^A-Za-z0-9_.-]", "_") + ".json");
        Files.write(file, JSON.writeValueAsBytes(r));
        return file;
    }

    /** Every record in the store, oldest first. A file that cannot be read fails with its name. */
    public List<BenchRecord> readAll() throws IOException {
        List<BenchRecord> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                try {
                    out.add(JSON.readValue(f.toFile(), BenchRecord.class));
                } catch (IOException | IllegalArgumentException e) {
                    throw new IOException(f + ": " + e.getMessage(), e);
                }
            }
        }
        out.sort(Comparator.comparing(BenchRecord::time));
        return out;
    }
}
