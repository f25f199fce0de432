package dev.nodekit.csi.rbd;

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
 * One request of the RBD crash test, as the child prints it ({@code START seq thread kind args...})
 * and as the parent retries it: {@code create NAME SIZE}, {@code restore NAME SIZE SNAP},
 * {@code clone NAME SIZE IMAGE}, {@code delete IMAGE}, {@code snapshot NAME IMAGE},
 * {@code delete-snapshot SNAP}, {@code resize IMAGE SIZE}, {@code attach IMAGE}, {@code detach IMAGE}.
 */
record RbdCrashOp(int seq, int thread, String kind, List<String> args) {
    RbdCrashOp {
        args = List.copyOf(args);
    }

    static RbdCrashOp of(int seq, int thread, String kind, String... args) {
        return new RbdCrashOp(seq, thread, kind, Arrays.asList(args));
    }

    String line() {
        return seq + " " + thread + " " + kind + (args.isEmpty() ? "" : " " + String.join(" ", args));
    }

    static RbdCrashOp parse(String line) {
        String[] f = line.strip().split(" ");
        return new RbdCrashOp(Integer.parseInt(f[0]), Integer.parseInt(f[1]), f[2],
                new ArrayList<>(Arrays.asList(f).subList(3, f.length)));
    }

    Optional<String> createdName() {
        return switch (kind) {
            case "create", "restore", "clone", "snapshot" -> Optional.of(args.get(0));
            default -> Optional.empty();
        };
    }

    Optional<String> target() {
        return switch (kind) {
            case "delete", "delete-snapshot", "resize", "attach", "detach" -> Optional.of(args.get(0));
            default -> Optional.empty();
        };
    }

    /**
     * Runs the op as a CO would until it answers: Pending (a busy object, a flatten in progress) and
     * "in use" (a watch a killed process left on the image, until the OSD times it out) are retried
     * for up to two minutes.
     */
    String execute(StorageBackend b, Map<String, String> params, Credentials creds) throws Exception {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (true) {
            try {
                return once(b, params, creds);
            } catch (StorageException.Pending | StorageException.FailedPrecondition e) {
                if (System.nanoTime() > deadline || (e instanceof StorageException.FailedPrecondition
                        && !e.getMessage().contains("in use"))) {
                    throw e;
                }
                Thread.sleep(250);
            }
        }
    }

    private String once(StorageBackend b, Map<String, String> params, Credentials c) throws Exception {
        return switch (kind) {
            case "create" -> b.createImage(new ImageSpec(args.get(0), Optional.empty(), Long.parseLong(args.get(1)),
                    Optional.empty(), params, Map.of()), c).id().encode();
            case "restore" -> b.createImage(new ImageSpec(args.get(0), Optional.empty(), Long.parseLong(args.get(1)),
                    Optional.of(new ContentSource.FromSnapshot(snapshot(args.get(2)))), params, Map.of()), c)
                    .id().encode();
            case "clone" -> b.createImage(new ImageSpec(args.get(0), Optional.empty(), Long.parseLong(args.get(1)),
                    Optional.of(new ContentSource.FromImage(image(args.get(2)))), params, Map.of()), c).id().encode();
            case "snapshot" -> b.createSnapshot(new SnapshotSpec(args.get(0), image(args.get(1)), Map.of()), c)
                    .id().encode();
            case "delete" -> {
                b.deleteImage(image(args.get(0)), c);
                yield "-";
            }
            case "delete-snapshot" -> {
                b.deleteSnapshot(snapshot(args.get(0)), c);
                yield "-";
            }
            case "resize" -> {
                b.resizeImage(image(args.get(0)), Long.parseLong(args.get(1)), c);
                yield "-";
            }
            case "attach" -> b.attach(image(args.get(0)), false, c).device().toString();
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
