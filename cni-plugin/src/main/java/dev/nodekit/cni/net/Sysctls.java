package dev.nodekit.cni.net;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;

/**
 * The plugin's own (host) namespace's {@code net.*} sysctls, read and written as files under
 * {@code /proc/sys} without an exec ({@code ip_forward}, a bridge's {@code accept_ra}). Keys use
 * slashes ({@code net/ipv6/conf/cni0.100/accept_ra}) so interface names may contain dots. Sysctls of
 * a pod's namespace are written through {@link NetNs#apply(IpBatch, java.util.Map)}.
 */
public final class Sysctls {
    private final Path procSys;

    /** Sysctls under {@code procSys} (tests pass a temp dir). */
    public Sysctls(Path procSys) {
        if (procSys == null) {
            throw new IllegalArgumentException("procSys is null");
        }
        this.procSys = procSys;
    }

    /** The real {@code /proc/sys}. */
    public static Sysctls system() {
        return new Sysctls(Path.of("/proc/sys"));
    }

    /** The value of {@code key}, trimmed; empty when the key does not exist. */
    public Optional<String> read(String key) throws CniException {
        Path p = procSys.resolve(checkKey(key));
        try {
            return Optional.of(new String(Files.readAllBytes(p), StandardCharsets.US_ASCII).strip());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new CniException(CniError.INTERNAL, "cannot read sysctl " + key + ": " + e.getMessage());
        }
    }

    /** Sets {@code key} to {@code value} unless it already has it. */
    public void ensure(String key, String value) throws CniException {
        Optional<String> now = read(key);
        if (now.isPresent() && now.get().equals(value)) {
            return;
        }
        Path p = procSys.resolve(checkKey(key));
        try {
            Files.write(p, (checkValue(value) + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new CniException(CniError.INTERNAL, "cannot set sysctl " + key + "=" + value + ": " + e.getMessage());
        }
    }

    /** Sets {@code key} when it exists; a missing key (IPv6 disabled, interface gone) is not an error. */
    public boolean ensureIfPresent(String key, String value) throws CniException {
        if (read(key).isEmpty()) {
            return false;
        }
        ensure(key, value);
        return true;
    }

    /**
     * Checks a key: relative, under {@code net/}, components of letters, digits, {@code _ . - @}, no
     * {@code .} or {@code ..} component.
     */
    static String checkKey(String key) {
        boolean ok = key != null && key.startsWith("net/") && !key.endsWith("/") && key.length() < 256;
        if (ok) {
            int start = 0;
            for (int i = 0; i <= key.length() && ok; i++) {
                if (i == key.length() || key.charAt(i) == '/') {
                    String part = key.substring(start, i);
                    ok = !part.isEmpty() && !".".equals(part) && !"..".equals(part);
                    start = i + 1;
                } else {
                    char c = key.charAt(i);
                    ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
                            || c == '.' || c == '-' || c == '@';
                }
            }
        }
        if (!ok) {
            throw new IllegalArgumentException("'" + key + "' is not a net/... sysctl key");
        }
        return key;
    }

    static String checkValue(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-')) {
                throw new IllegalArgumentException("'" + value + "' is not a sysctl value nodekit writes");
            }
        }
        return value;
    }
}
