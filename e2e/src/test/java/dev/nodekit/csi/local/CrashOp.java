package dev.nodekit.csi.local;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

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
 * {@code detach IMAGE}. Names never contain spaces. Shared by the crash tests of every backend.
 *
 * @param seq    the order the child started it in
 * @param thread the child's thread that ran it
 * @param kind   what it does
 * @param args   its arguments, as above
 */
public record CrashOp(int seq, int thread, String kind, List<String> args) {
    public CrashOp {
        args = List.copyOf(args);
    }

    /** An op from its parts. */
    public static CrashOp of(int seq, int thread, String kind, String... args) {
        return new CrashOp(seq, thread, kind, Arrays.asList(args));
    }

    /** The text after {@code START }. */
    public String line() {
        return seq + " " + thread + " " + kind + (args.isEmpty() ? "" : " " + String.join(" ", args));
    }

    /** Reads {@link #line()}'s text back. */
    public static CrashOp parse(String line) {
        String[] f = line.strip().split(" ");
        return new CrashOp(Integer.parseInt(f[0]), Integer.parseInt(f[1]), f[2],
                new ArrayList<>(Arrays.asList(f).subList(3, f.length)));
    }

    /** The request name this op creates, if it creates something. */
    public Optional<String> createdName() {
        return switch (kind) {
            case "create", "restore", "clone", "snapshot" -> Optional.of(args.get(0));
            default -> Optional.empty();
        };
    }

    /** The id this op changes or removes, if any. */
    public Optional<String> target() {
        return switch (kind) {
            case "delete", "delete-snapshot", "resize", "attach", "detach" -> Optional.of(args.get(0));
            default -> Optional.empty();
        };
    }

    /**
     * Runs the op with no parameters or credentials (the local backend); a Pending answer (another
     * call on the same object) is retried for up to a minute.
     *
     * @return the created id, the attached device, or {@code -}
     */
    String execute(StorageBackend b) throws StorageException, InvalidIdException, InterruptedException {
        return execute(b, Map.of(), Credentials.none(), Duration.ofMinutes(1), Duration.ofMillis(20),
                e -> e instanceof StorageException.Pending);
    }

    /**
     * Runs the op as a CO would until it answers: an answer {@code retry} accepts is retried every
     * {@code pause} until {@code bound} has passed.
     *
     * @return the created id, the attached device, or {@code -}
     */
    public String execute(StorageBackend b, Map<String, String> params, Credentials creds, Duration bound,
            Duration pause, Predicate<StorageException> retry)
            throws StorageException, InvalidIdException, InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        while (true) {
            try {
                return once(b, params, creds);
            } catch (StorageException e) {
                if (!retry.test(e) || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(pause.toMillis());
            }
        }
    }

    private String once(StorageBackend b, Map<String, String> params, Credentials creds)
            throws StorageException, InvalidIdException {
        return switch (kind) {
            case "create" -> b.createImage(new ImageSpec(args.get(0), Optional.empty(), Long.parseLong(args.get(1)),
                    Optional.empty(), params, Map.of()), creds).id().encode();
            case "restore" -> b.createImage(new ImageSpec(args.get(0), Optional.empty(), Long.parseLong(args.get(1)),
                    Optional.of(new ContentSource.FromSnapshot(snapshot(args.get(2)))), params, Map.of()), creds)
                    .id().encode();
            case "clone" -> b.createImage(new ImageSpec(args.get(0), Optional.empty(), Long.parseLong(args.get(1)),
                    Optional.of(new ContentSource.FromImage(image(args.get(2)))), params, Map.of()), creds)
                    .id().encode();
            case "snapshot" -> b.createSnapshot(new SnapshotSpec(args.get(0), image(args.get(1)), Map.of()), creds)
                    .id().encode();
            case "delete" -> {
                b.deleteImage(image(args.get(0)), creds);
                yield "-";
            }
            case "delete-snapshot" -> {
                b.deleteSnapshot(snapshot(args.get(0)), creds);
                yield "-";
            }
            case "resize" -> {
                b.resizeImage(image(args.get(0)), Long.parseLong(args.get(1)), creds);
                yield "-";
            }
            case "attach" -> b.attach(image(args.get(0)), false, creds).device().toString();
            case "detach" -> {
                b.detach(image(args.get(0)));
                yield "-";
            }
            default -> throw new IllegalArgumentException("unknown op " + kind);
        };
    }

    /** A volume id from its text. */
    public static ObjectId image(String id) throws InvalidIdException {
        return ObjectId.parse(id, ObjectId.Kind.VOLUME);
    }

    /** A snapshot id from its text. */
    public static ObjectId snapshot(String id) throws InvalidIdException {
        return ObjectId.parse(id, ObjectId.Kind.SNAPSHOT);
    }
}
