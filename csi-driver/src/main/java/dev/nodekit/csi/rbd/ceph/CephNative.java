package dev.nodekit.csi.rbd.ceph;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * Loads librados.so.2 and librbd.so.1 on first use, once per JVM. A failure is remembered and
 * reported the same way on every later call, so a host without Ceph libraries fails each
 * operation with the same clear {@link CephLibraryUnavailableException} instead of a linkage
 * error from deep inside JNA.
 */
final class CephNative {
    static final String RADOS_LIBRARY = "librados.so.2";
    static final String RBD_LIBRARY = "librbd.so.1";

    /** Both bindings; librbd is loaded after librados, which it links against. */
    record Libraries(Librados rados, Librbd rbd) {
    }

    private static final Object LOCK = new Object();
    private static Libraries libraries;
    private static String failure;

    private CephNative() {
    }

    static Librados rados() throws CephLibraryUnavailableException {
        return libraries().rados();
    }

    static Librbd rbd() throws CephLibraryUnavailableException {
        return libraries().rbd();
    }

    static Libraries libraries() throws CephLibraryUnavailableException {
        synchronized (LOCK) {
            if (libraries != null) {
                return libraries;
            }
            if (failure == null) {
                try {
                    libraries = load(RADOS_LIBRARY, RBD_LIBRARY);
                    return libraries;
                } catch (CephLibraryUnavailableException e) {
                    failure = e.getMessage();
                }
            }
            throw new CephLibraryUnavailableException("load Ceph client libraries", failure);
        }
    }

    /** Loads the two libraries by soname; separate from the cache so tests can name missing ones. */
    static Libraries load(String radosName, String rbdName) throws CephLibraryUnavailableException {
        if (Native.POINTER_SIZE != 8 || Native.SIZE_T_SIZE != 8 || Native.LONG_SIZE != 8) {
            throw new CephLibraryUnavailableException("load Ceph client libraries",
                    "the librados/librbd bindings need a 64-bit (LP64) platform; this JVM has pointer size "
                            + Native.POINTER_SIZE + " and size_t size " + Native.SIZE_T_SIZE);
        }
        Map<String, Object> options = Map.of(Library.OPTION_STRING_ENCODING, StandardCharsets.UTF_8.name());
        Librados rados = loadOne(radosName, Librados.class, options, "librados2");
        Librbd rbd = loadOne(rbdName, Librbd.class, options, "librbd1");
        return new Libraries(rados, rbd);
    }

    private static <T extends Library> T loadOne(String name, Class<T> type, Map<String, Object> options,
            String debianPackage) throws CephLibraryUnavailableException {
        try {
            return Native.load(name, type, options);
        } catch (UnsatisfiedLinkError e) {
            throw new CephLibraryUnavailableException("load " + name, "cannot load " + name + " (" + firstLine(e)
                    + "); install the Ceph client library (Debian/Ubuntu package " + debianPackage
                    + ", 16.2 or later) on this host");
        }
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
