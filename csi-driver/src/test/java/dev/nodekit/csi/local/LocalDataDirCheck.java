package dev.nodekit.csi.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads a local backend's data dir straight from disk (not through the backend) and lists what
 * breaks the journal's invariants after recovery: records not READY, data files without a record
 * or records without a data file, leftover temporary files, quarantined files, two objects with
 * one name, attachment records in the middle of a detach. The crash tests use it (published in
 * the csi-driver test-jar).
 */
public final class LocalDataDirCheck {
    /** One object found on disk: kind ({@code IMAGE} or {@code SNAPSHOT}), id, request name, state, size, copy method. */
    public record Found(String kind, String id, String name, String state, long sizeBytes, String copyMethod) {
    }

    /**
     * What is on disk.
     *
     * @param objects  every journal record
     * @param problems every broken invariant, described; empty for a consistent data dir
     */
    public record Report(List<Found> objects, List<String> problems) {
        public Report {
            objects = List.copyOf(objects);
            problems = List.copyOf(problems);
        }

        /** The READY objects of {@code kind}. */
        public List<Found> ready(String kind) {
            return objects.stream().filter(o -> o.kind.equals(kind) && o.state.equals("READY")).toList();
        }
    }

    private LocalDataDirCheck() {
    }

    /** Inspects {@code dataDir}. */
    public static Report inspect(Path dataDir) throws IOException {
        List<Found> objects = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Map<String, String> names = new HashMap<>();
        Path pools = dataDir.resolve(Layout.POOLS);
        if (Files.isDirectory(pools)) {
            for (Path pool : list(pools)) {
                for (RecordKind kind : RecordKind.values()) {
                    Path dir = pool.resolve(kind == RecordKind.IMAGE ? Layout.IMAGES : Layout.SNAPSHOTS);
                    if (Files.isDirectory(dir)) {
                        inspectDir(kind, dir, objects, problems, names);
                    }
                }
            }
        }
        Path quarantine = dataDir.resolve("quarantine");
        if (Files.isDirectory(quarantine)) {
            for (Path p : list(quarantine)) {
                problems.add("quarantined file " + p);
            }
        }
        Path attachments = dataDir.resolve("node").resolve("attachments");
        if (Files.isDirectory(attachments)) {
            for (Path p : list(attachments)) {
                String n = p.getFileName().toString();
                if (n.endsWith(".tmp")) {
                    problems.add("temporary file " + p);
                } else {
                    AttachmentRecord a = AttachmentRecord.FORMAT.read(p, AttachmentRecord.class);
                    if (a.detaching()) {
                        problems.add("attachment record in the middle of a detach: " + p);
                    }
                }
            }
        }
        return new Report(objects, problems);
    }

    private static void inspectDir(RecordKind kind, Path dir, List<Found> objects, List<String> problems,
            Map<String, String> names) throws IOException {
        for (Path p : list(dir)) {
            String n = p.getFileName().toString();
            if (n.endsWith(".tmp")) {
                problems.add("temporary file " + p);
            } else if (n.endsWith(Layout.RECORD_SUFFIX)) {
                JournalRecord r = JournalRecord.FORMAT.read(p, JournalRecord.class);
                objects.add(new Found(kind.name(), r.id(), r.name(), r.state().name(), r.sizeBytes(), r.copyMethod()));
                if (r.state() != JournalRecord.State.READY) {
                    problems.add(kind.noun() + " " + r.id() + " (" + r.name() + ") is " + r.state());
                }
                Path data = dir.resolve(r.uuid() + Layout.dataSuffix(kind));
                if (!Files.exists(data)) {
                    problems.add(kind.noun() + " " + r.id() + " has no data file");
                }
                String other = names.putIfAbsent(kind + "/" + r.name(), r.id());
                if (other != null) {
                    problems.add("name '" + r.name() + "' has two " + kind.noun() + "s: " + other + ", " + r.id());
                }
            } else if (n.endsWith(Layout.dataSuffix(kind))) {
                String uuid = n.substring(0, n.length() - Layout.dataSuffix(kind).length());
                if (!Files.exists(dir.resolve(uuid + Layout.RECORD_SUFFIX))) {
                    problems.add("orphan data file " + p);
                }
            } else {
                problems.add("unexpected file " + p);
            }
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}
