package dev.nodekit.csi.local;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.csi.local.JournalRecord.State;

/**
 * Startup recovery: reads every record and data file of every pool, finishes or undoes what a
 * crash interrupted (with the same journal steps the live code uses), and quarantines files no
 * record explains. Runs before any request is served, under the data dir lock.
 */
final class Reconciler {
    private static final Logger log = LoggerFactory.getLogger(Reconciler.class);
    private static final Pattern UUID_FILE = Pattern.compile(
            "([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(\\.json|\\.img|\\.snap)");

    /**
     * What recovery did.
     *
     * @param loaded          READY records taken into the index
     * @param undone          unfinished creates undone (RESERVED records)
     * @param deletesFinished half-done deletes finished (DELETING records)
     * @param sizesRepaired   records whose size was brought up to their grown file (a resize cut short)
     * @param tmpRemoved      leftover temporary files of interrupted atomic writes
     * @param quarantined     data files without a record, moved to {@code quarantine/}
     * @param lost            READY records whose data file is missing (kept, logged as errors)
     * @param duplicateNames  names with more than one READY record (cannot happen by construction; logged)
     */
    record Report(int loaded, int undone, int deletesFinished, int sizesRepaired, int tmpRemoved,
            List<Path> quarantined, List<String> lost, List<String> duplicateNames) {
        Report {
            quarantined = List.copyOf(quarantined);
            lost = List.copyOf(lost);
            duplicateNames = List.copyOf(duplicateNames);
        }
    }

    private final Journal journal;
    private final Layout layout;
    private final DataFiles files;

    Reconciler(Journal journal, DataFiles files) {
        this.journal = journal;
        this.layout = journal.layout();
        this.files = files;
    }

    /** Recovers every pool directory under {@code pools/}; {@code configured} pools are created if missing. */
    Report run(Set<String> configured) throws IOException {
        Counters c = new Counters();
        for (String pool : configured) {
            for (RecordKind kind : RecordKind.values()) {
                Files.createDirectories(layout.dir(kind, pool));
            }
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.pools())) {
            for (Path p : ds) {
                String pool = p.getFileName().toString();
                if (!Layout.validPool(pool) || !Files.isDirectory(p)) {
                    log.atWarn().addKeyValue("path", p).log("ignoring an entry of pools/ that is not a pool directory");
                    continue;
                }
                for (RecordKind kind : RecordKind.values()) {
                    Path dir = layout.dir(kind, pool);
                    if (Files.isDirectory(dir)) {
                        recover(kind, pool, dir, c);
                    }
                }
            }
        }
        return new Report(c.loaded, c.undone, c.deletesFinished, c.sizesRepaired, c.tmpRemoved, c.quarantined,
                c.lost, c.duplicates);
    }

    private void recover(RecordKind kind, String pool, Path dir, Counters c) throws IOException {
        Map<UUID, Path> records = new TreeMap<>();
        Set<UUID> data = new HashSet<>();
        int tmp = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                Matcher m = UUID_FILE.matcher(name);
                if (name.startsWith(".") && name.endsWith(".tmp")) {
                    // An atomic write (AtomicFiles) cut short: its target still has the old content.
                    Files.deleteIfExists(p);
                    tmp++;
                } else if (m.matches() && m.group(2).equals(Layout.RECORD_SUFFIX)) {
                    records.put(UUID.fromString(m.group(1)), p);
                } else if (m.matches() && m.group(2).equals(Layout.dataSuffix(kind))) {
                    data.add(UUID.fromString(m.group(1)));
                } else {
                    log.atWarn().addKeyValue("path", p).log("unexpected file in a pool directory; leaving it alone");
                }
            }
        }
        if (tmp > 0) {
            journal.durability().syncDirectory(dir);
            c.tmpRemoved += tmp;
        }
        Map<String, String> readyNames = new HashMap<>();
        for (Map.Entry<UUID, Path> e : records.entrySet()) {
            JournalRecord r = JournalRecord.FORMAT.read(e.getValue(), JournalRecord.class);
            if (r.kind() != kind || !r.pool().equals(pool) || !r.uuid().equals(e.getKey())) {
                throw new IOException(e.getValue() + ": record of " + r.kind() + " " + r.id()
                        + " is not where its id says it belongs; refusing to guess (move it back or remove it)");
            }
            Path file = layout.data(kind, pool, r.uuid());
            journal.adopt(r);
            switch (r.state()) {
                case RESERVED -> {
                    // A create that never answered: nobody knows this id. Drop it; a retried create starts afresh.
                    log.atInfo().addKeyValue("id", r.id()).addKeyValue("name", r.name())
                            .log("undoing a create interrupted by a crash");
                    journal.undo(r);
                    c.undone++;
                }
                case DELETING -> {
                    log.atInfo().addKeyValue("id", r.id()).log("finishing a delete interrupted by a crash");
                    journal.finishDelete(r);
                    c.deletesFinished++;
                }
                case READY -> {
                    c.loaded++;
                    if (!data.contains(r.uuid())) {
                        log.atError().addKeyValue("id", r.id()).addKeyValue("file", file)
                                .log("data file of a committed object is missing; the object is kept but unusable");
                        c.lost.add(r.id());
                    } else {
                        long length = Files.size(file);
                        if (kind == RecordKind.IMAGE && length > r.sizeBytes()) {
                            log.atInfo().addKeyValue("id", r.id()).addKeyValue("size_bytes", length)
                                    .log("finishing a resize interrupted by a crash");
                            journal.repairSize(r, length);
                            c.sizesRepaired++;
                        } else if (length < r.sizeBytes()) {
                            log.atWarn().addKeyValue("id", r.id()).addKeyValue("file_bytes", length)
                                    .addKeyValue("size_bytes", r.sizeBytes())
                                    .log("data file is shorter than its record; growing it back");
                            files.grow(file, r.sizeBytes());
                        }
                    }
                    String other = readyNames.putIfAbsent(r.name(), r.id());
                    if (other != null) {
                        log.atError().addKeyValue("name", r.name()).addKeyValue("id", r.id())
                                .addKeyValue("other_id", other).log("two committed objects share a request name");
                        c.duplicates.add(r.name());
                    }
                }
                default -> throw new IllegalStateException(r.state().toString());
            }
            data.remove(r.uuid());
        }
        for (UUID orphan : data) {
            c.quarantined.add(quarantine(layout.data(kind, pool, orphan), pool));
        }
    }

    /** Moves a data file no record explains out of the pool, never deleting data we do not understand. */
    private Path quarantine(Path file, String pool) throws IOException {
        Path dir = Files.createDirectories(layout.quarantine());
        Path target = dir.resolve(pool + "." + file.getParent().getFileName() + "." + file.getFileName());
        Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
        journal.durability().syncDirectory(dir);
        journal.durability().syncDirectory(file.getParent());
        log.atWarn().addKeyValue("file", file).addKeyValue("quarantined_as", target)
                .log("data file without a journal record moved to quarantine");
        return target;
    }

    private static final class Counters {
        int loaded;
        int undone;
        int deletesFinished;
        int sizesRepaired;
        int tmpRemoved;
        final List<Path> quarantined = new ArrayList<>();
        final List<String> lost = new ArrayList<>();
        final List<String> duplicates = new ArrayList<>();
    }
}
