package dev.nodekit.csi.local;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.nodekit.csi.spi.ContentSource;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.ImageSpec;
import dev.nodekit.csi.spi.InvalidIdException;
import dev.nodekit.csi.spi.ObjectId;
import dev.nodekit.csi.spi.SnapshotSpec;
import dev.nodekit.csi.spi.StorageBackend;
import dev.nodekit.csi.spi.StorageException;

/**
 * One request of the crash tests, as the child prints it ({@code START seq thread kind args...})
 * and as the parent retries it. Kinds: {@code create NAME SIZE}, {@code restore NAME SIZE SNAP},
 * {@code clone NAME SIZE IMAGE}, {@code delete IMAGE}, {@code snapshot NAME IMAGE},
 * {@code delete-snapshot SNAP}, {@code resize IMAGE SIZE}, {@code attach IMAGE},
 * {@code detach IMAGE}. Names never contain spaces.
 */
record CrashOp(int seq, int thread, String kind, List<String> args) {
    CrashOp {
        args = List.copyOf(args);
    }

    static CrashOp of(int seq, int thread, String kind, String... args) {
        return new CrashOp(seq, thread, kind, Arrays.asList(args));
    }

    /** The text after {@code START }. */
    String line() {
        return seq + " " + thread + " " + kind + (args.isEmpty() ? "" : " " + String.join(" ", args));
    }

    static CrashOp parse(String line) {
        String[] f = line.strip().split(" ");
        return new CrashOp(Integer.parseInt(f[0]), Integer.parseInt(f[1]), f[2],
                new ArrayList<>(Arrays.asList(f).subList(3, f.length)));
    }

    /** The request name this op creates, if it creates something. */
    Optional<String> createdName() {
        return switch (kind) {
            case "create", "restore", "clone", "snapshot" -> Optional.of(args.get(0));
            default -> Optional.empty();
        };
    }

    /** The id this op changes or removes, if any. */
    Optional<String> target() {
        return switch (kind) {
            case "delete", "delete-snapshot", "resize", "attach", "detach" -> Optional.of(args.get(0));
            default -> Optional.empty();
        };
    }

    /**
     * Runs the op; a Pending answer (another call on the same object) is retried for up to a minute.
     *
     * @return the created id, the attached device, or {@code -}
     */
    String execute(StorageBackend b) throws StorageException, InvalidIdException, InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            try {
                return once(b);
            } catch (StorageException.Pending e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(20);
            }
        }
    }

    private String once(StorageBackend b) throws StorageException, InvalidIdException {
        Credentials none = Credentials.none();
        return switch (kind) {
            case "create" -> b.createImage(new ImageSpec(args.get(0), Optional.empty(), Long.parseLong(args.get(1)),
                    Optional.empty(), Map.of(), Map.of()), none).id().encode();
            case "restore" -> b.createImage(new ImageSpec(args.get(0), Optional.empty(), Long.parseLong(args.get(1)),
                    Optional.of(new ContentSource.FromSnapshot(snapshot(args.get(2)))), Map.of(), Map.of()), none)
                    .id().encode();
            case "clone" -> b.createImage(new ImageSpec(args.get(0), Optional.empty(), Long.parseLong(args.get(1)),
                    Optional.of(new ContentSource.FromImage(image(args.get(2)))), Map.of(), Map.of()), none)
                    .id().encode();
            case "snapshot" -> b.createSnapshot(new SnapshotSpec(args.get(0), image(args.get(1)), Map.of()), none)
                    .id().encode();
            case "delete" -> {
                b.deleteImage(image(args.get(0)), none);
                yield "-";
            }
            case "delete-snapshot" -> {
                b.deleteSnapshot(snapshot(args.get(0)), none);
                yield "-";
            }
            case "resize" -> {
                b.resizeImage(image(args.get(0)), Long.parseLong(args.get(1)), none);
                yield "-";
            }
            case "attach" -> b.attach(image(args.get(0)), false, none).device().toString();
            case "detach" -> {
                b.detach(image(args.get(0)));
                yield "-";
            }
            default -> throw new IllegalArgumentException("unknown op " + kind);
        };
    }

    static ObjectId image(String id) throws InvalidIdException {
        return ObjectId.parse(id, ObjectId.Kind.VOLUME);
    }

    static ObjectId snapshot(String id) throws InvalidIdException {
        return ObjectId.parse(id, ObjectId.Kind.SNAPSHOT);
    }
}
