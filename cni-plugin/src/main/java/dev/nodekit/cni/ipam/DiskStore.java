package dev.nodekit.cni.ipam;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import dev.nodekit.cni.net.IpAddress;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;

/**
 * One network's host-local directory, in exactly the Go plugin's format (see the package notes):
 * {@code <dataDir>/<network>/<ip>} files holding {@code "<containerID>\r\n<ifname>"},
 * {@code last_reserved_ip.<rangeSetIndex>}, and {@code lock}, plus nodekit's {@value #FORMAT_FILE}
 * marker, which the Go plugin never matches.
 *
 * <p>Callers hold {@link #lock()} around every read-modify-write. Reserving writes the owner to a
 * temporary file first and hard-links it to the address name: {@code link(2)} fails when the name
 * exists, so it is as exclusive as Go's {@code O_EXCL} create, and an allocation file is never seen
 * half-written, even after kill -9.
 */
public final class DiskStore {
    /** The marker file nodekit writes next to the allocations. */
    public static final String FORMAT_FILE = ".nodekit-format";
    /** The format version nodekit writes and the newest it reads. */
    public static final int FORMAT_VERSION = 1;
    /** Error code for a directory nodekit cannot use (a newer or corrupt marker, an unusable layout). */
    public static final int STATE_UNUSABLE = 100;
    /** host-local's lock file. */
    public static final String LOCK_FILE = "lock";
    /** host-local's prefix of the round-robin cursor files. */
    public static final String LAST_RESERVED_PREFIX = "last_reserved_ip.";

    static final String FORMAT_NAME = "nodekit host-local";
    static final String TEMP_PREFIX = ".nodekit-reserve.";
    private static final int MAX_OWNER_BYTES = 4096;
    private static final Set<PosixFilePermission> MODE_0644 = PosixFilePermissions.fromString("rw-r--r--");
    private static final Set<PosixFilePermission> MODE_0755 = PosixFilePermissions.fromString("rwxr-xr-x");
    private static JsonFactory json;

    private final Path dir;
    private final FileLocker locker;
    private final Duration lockTimeout;

    private DiskStore(Path dir, FileLocker locker, Duration lockTimeout) {
        this.dir = dir;
        this.locker = locker;
        this.lockTimeout = lockTimeout;
    }

    /**
     * The store of {@code network} under {@code dataDir}; nothing is created until {@link #lock()}.
     *
     * @param lockTimeout the bound on waiting for the lock (then code 11)
     */
    public static DiskStore of(Path dataDir, String network, FileLocker locker, Duration lockTimeout) {
        if (network == null || network.isEmpty() || network.indexOf('/') >= 0 || network.startsWith(".")) {
            throw new IllegalArgumentException("network name '" + network + "' cannot name a directory");
        }
        return new DiskStore(dataDir.resolve(network), locker, lockTimeout);
    }

    /** The network directory. */
    public Path dir() {
        return dir;
    }

    /** Whether the network directory exists (DEL, GC and CHECK have nothing to do when it does not). */
    public boolean exists() {
        return Files.isDirectory(dir);
    }

    /**
     * Creates the directory (mode 0755, as Go does) when missing and takes the lock.
     *
     * @throws CniException code 11 when the lock stays busy, {@link #STATE_UNUSABLE} when the path is unusable
     */
    public FileLocker.Held lock() throws CniException {
        try {
            // Idempotent, and safe against a concurrent ADD creating it at the same moment.
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(MODE_0755));
        } catch (FileAlreadyExistsException e) {
            throw new CniException(STATE_UNUSABLE, "IPAM directory " + dir + " exists but is not a directory");
        } catch (IOException e) {
            throw new CniException(STATE_UNUSABLE, "cannot create IPAM directory " + dir + ": " + e, null, e);
        }
        Path lock = dir.resolve(LOCK_FILE);
        if (Files.isDirectory(lock)) {
            throw new CniException(STATE_UNUSABLE, "IPAM lock " + lock + " is a directory");
        }
        return locker.lock(lock, lockTimeout);
    }

    /**
     * Checks the format marker: absent (a directory of the Go plugin, or new) or ours at a version we
     * read. With {@code writeIfMissing}, stamps the marker on a directory that has none.
     *
     * @throws CniException {@link #STATE_UNUSABLE} for a newer or unreadable marker
     */
    public void checkFormat(boolean writeIfMissing) throws CniException {
        Path f = dir.resolve(FORMAT_FILE);
        byte[] data;
        try {
            data = Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            if (writeIfMissing) {
                writeAtomically(f, ("{\"format\": \"" + FORMAT_NAME + "\", \"version\": " + FORMAT_VERSION + "}\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
            return;
        } catch (IOException e) {
            throw new CniException(STATE_UNUSABLE, "cannot read " + f + ": " + e.getMessage());
        }
        int version = parseFormat(f, data);
        if (version > FORMAT_VERSION) {
            throw new CniException(STATE_UNUSABLE, "IPAM directory " + dir + " was written by a newer nodekit (format "
                    + version + ", this one reads up to " + FORMAT_VERSION + "); upgrade nodekit");
        }
    }

    private static int parseFormat(Path f, byte[] data) throws CniException {
        String format = null;
        int version = -1;
        try (JsonParser p = jsonFactory().createParser(data)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("not a JSON object");
            }
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if ("format".equals(name) && v == JsonToken.VALUE_STRING) {
                    format = p.getText();
                } else if ("version".equals(name) && v == JsonToken.VALUE_NUMBER_INT) {
                    version = p.getIntValue();
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            throw new CniException(STATE_UNUSABLE, "IPAM format marker " + f + " is corrupt: " + e.getMessage()
                    + "; expected {\"format\": \"" + FORMAT_NAME + "\", \"version\": N}");
        }
        if (!FORMAT_NAME.equals(format) || version < 1) {
            throw new CniException(STATE_UNUSABLE, "IPAM format marker " + f + " is corrupt: expected {\"format\": \""
                    + FORMAT_NAME + "\", \"version\": N}");
        }
        return version;
    }

    private static synchronized JsonFactory jsonFactory() {
        if (json == null) {
            json = new JsonFactory();
        }
        return json;
    }

    /**
     * Records {@code ip} for the owner unless its file exists, and remembers it as the last address
     * reserved in range set {@code rangeSetIndex}.
     *
     * @return false when the address is taken (whatever the existing file holds)
     */
    public boolean reserve(String containerId, String ifName, IpAddress ip, int rangeSetIndex) throws CniException {
        List<IpAddress> one = List.of(ip);
        return reserveFirst(containerId, ifName, one, rangeSetIndex) != null;
    }

    /**
     * Tries the candidates in order and records the first free one for the owner; one temporary
     * owner file serves every attempt.
     *
     * @return the address reserved, or null when every candidate was taken
     */
    public IpAddress reserveFirst(String containerId, String ifName, Iterable<IpAddress> candidates, int rangeSetIndex)
            throws CniException {
        byte[] content = (containerId.strip() + "\r\n" + ifName).getBytes(StandardCharsets.UTF_8);
        Path tmp = dir.resolve(TEMP_PREFIX + ProcessHandle.current().pid() + "." + Thread.currentThread().getId());
        try {
            Files.deleteIfExists(tmp);
            Files.write(tmp, content, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            Files.setPosixFilePermissions(tmp, MODE_0644);
            for (IpAddress ip : candidates) {
                try {
                    Files.createLink(dir.resolve(ip.toString()), tmp);
                } catch (FileAlreadyExistsException taken) {
                    continue;
                }
                writeAtomically(dir.resolve(LAST_RESERVED_PREFIX + rangeSetIndex),
                        ip.toString().getBytes(StandardCharsets.US_ASCII));
                return ip;
            }
            return null;
        } catch (IOException e) {
            throw new CniException(CniError.INTERNAL, "cannot record an allocation in " + dir + ": " + e, null, e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                // A leftover temporary file is removed by the owner's DEL or by GC.
            }
        }
    }

    /** The last address reserved in range set {@code index}; empty when unknown or unreadable (as in Go). */
    public Optional<IpAddress> lastReserved(int index) {
        try {
            byte[] b = Files.readAllBytes(dir.resolve(LAST_RESERVED_PREFIX + index));
            if (b.length > 64) {
                return Optional.empty();
            }
            return Optional.ofNullable(IpAddress.parseOrNull(new String(b, StandardCharsets.US_ASCII).strip()));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Every file named by an address (in Go's spelling), with the owner its content records. */
    public List<Allocation> allocations() throws CniException {
        List<Allocation> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                IpAddress ip = IpAddress.parseOrNull(name);
                if (ip == null || !ip.toString().equals(name)) {
                    continue;
                }
                out.add(Allocation.parse(ip, readOwner(p)));
            }
        } catch (IOException e) {
            throw new CniException(CniError.INTERNAL, "cannot list IPAM directory " + dir + ": " + e, null, e);
        }
        return out;
    }

    /** Names in the directory that are neither allocations nor host-local's or nodekit's own files. */
    public List<String> foreignFiles() throws CniException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                IpAddress ip = IpAddress.parseOrNull(name);
                boolean known = (ip != null && ip.toString().equals(name)) || LOCK_FILE.equals(name)
                        || FORMAT_FILE.equals(name) || name.startsWith(TEMP_PREFIX) || isLastReservedName(name)
                        || (name.startsWith(".") && name.endsWith(".tmp"));
                if (!known) {
                    out.add(name);
                }
            }
        } catch (IOException e) {
            throw new CniException(CniError.INTERNAL, "cannot list IPAM directory " + dir + ": " + e, null, e);
        }
        return out;
    }

    private static boolean isLastReservedName(String name) {
        if (!name.startsWith(LAST_RESERVED_PREFIX) || name.length() == LAST_RESERVED_PREFIX.length()) {
            return false;
        }
        for (int i = LAST_RESERVED_PREFIX.length(); i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /** The content of an allocation file, or "" when it is not a small regular UTF-8 file. */
    private static String readOwner(Path p) {
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isRegularFile() || a.size() > MAX_OWNER_BYTES) {
                return "";
            }
            byte[] b;
            try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
                b = in.readNBytes(MAX_OWNER_BYTES + 1);
            }
            if (b.length > MAX_OWNER_BYTES) {
                return "";
            }
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return "";
        } catch (IOException e) {
            return "";
        }
    }

    /** Deletes the allocation file of {@code ip}; false when it was already gone. */
    public boolean release(IpAddress ip) throws CniException {
        Path p = dir.resolve(ip.toString());
        try {
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                return false;
            }
            return Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new CniException(CniError.INTERNAL, "cannot release " + p + ": " + e, null, e);
        }
    }

    /**
     * Releases what the owner holds, the way host-local's {@code ReleaseByID} does: every file recording
     * exactly {@code (containerId, ifName)}; if there is none, every id-only file naming
     * {@code containerId}. Temporary files a killed reservation of this owner left behind go too.
     *
     * @return the released addresses
     */
    public List<IpAddress> releaseOwner(String containerId, String ifName) throws CniException {
        List<Allocation> all = allocations();
        List<IpAddress> released = new ArrayList<>();
        for (Allocation a : all) {
            if (a.isOwnedBy(containerId, ifName) && release(a.ip())) {
                released.add(a.ip());
            }
        }
        if (released.isEmpty()) {
            for (Allocation a : all) {
                if (a.isLegacyOwnedBy(containerId) && release(a.ip())) {
                    released.add(a.ip());
                }
            }
        }
        removeTempFiles(containerId, ifName);
        return released;
    }

    /**
     * Removes reservation temp files: of one owner, or all of them when {@code containerId} is null
     * (GC, which runs with the lock held and so can see no reservation in progress).
     */
    public int removeTempFiles(String containerId, String ifName) throws CniException {
        int n = 0;
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, TEMP_PREFIX + "*")) {
            for (Path p : ds) {
                if (containerId == null) {
                    Files.deleteIfExists(p);
                    n++;
                    continue;
                }
                Allocation a = Allocation.parse(IpAddress.v4(0), readOwner(p));
                if (a.isOwnedBy(containerId, ifName) && Files.deleteIfExists(p)) {
                    n++;
                }
            }
        } catch (IOException e) {
            throw new CniException(CniError.INTERNAL, "cannot clean " + dir + ": " + e, null, e);
        }
        return n;
    }

    /**
     * When the file of {@code ip} was last written (an allocation's file is written once, at
     * reservation); empty when it is gone.
     */
    public Optional<Instant> modified(IpAddress ip) throws CniException {
        Path p = dir.resolve(ip.toString());
        try {
            return Optional.of(Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new CniException(CniError.INTERNAL, "cannot read the time of " + p + ": " + e, null, e);
        }
    }

    /**
     * Removes reservation temporary files last written before {@code cutoff} (left by a process killed
     * in the middle of a reservation; younger ones may belong to a reservation in progress in a process
     * that does not take this store's lock). With {@code dryRun}, only counts them.
     *
     * @return the number of files removed (or that would be)
     */
    public int removeTempFilesBefore(Instant cutoff, boolean dryRun) throws CniException {
        int n = 0;
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, TEMP_PREFIX + "*")) {
            for (Path p : ds) {
                try {
                    if (Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(cutoff)
                            && (dryRun || Files.deleteIfExists(p))) {
                        n++;
                    }
                } catch (NoSuchFileException e) {
                    // Gone meanwhile.
                }
            }
        } catch (IOException e) {
            throw new CniException(CniError.INTERNAL, "cannot clean " + dir + ": " + e, null, e);
        }
        return n;
    }

    /**
     * Whether a file can be created in the directory (creating the directory if needed): false on a
     * read-only or full filesystem or a permission problem.
     */
    public Optional<String> writeProblem() {
        Path probe = dir.resolve(TEMP_PREFIX + "status." + ProcessHandle.current().pid());
        try {
            Files.createDirectories(dir);
            Files.write(probe, new byte[] {'\n'});
            Files.delete(probe);
            return Optional.empty();
        } catch (IOException e) {
            try {
                Files.deleteIfExists(probe);
            } catch (IOException ignored) {
                // Reported below.
            }
            return Optional.of(e.toString());
        }
    }

    /** Writes a small file by rename, mode 0644 (host-local's files are world-readable). */
    private void writeAtomically(Path target, byte[] data) throws CniException {
        Path tmp = dir.resolve("." + target.getFileName() + "." + ProcessHandle.current().pid() + "."
                + Thread.currentThread().getId() + ".tmp");
        try {
            Files.write(tmp, data);
            Files.setPosixFilePermissions(tmp, MODE_0644);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // Reported below.
            }
            throw new CniException(CniError.INTERNAL, "cannot write " + target + ": " + e, null, e);
        }
    }

    @Override
    public String toString() {
        return "DiskStore[" + dir + "]";
    }
}
