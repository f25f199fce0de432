package dev.nodekit.csi.rbd.ceph;

import java.util.Map;

/** Linux errno numbers librados/librbd return (negated), with their names and strerror texts. */
final class Errno {
    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EIO = 5;
    static final int EAGAIN = 11;
    static final int EACCES = 13;
    static final int EBUSY = 16;
    static final int EEXIST = 17;
    static final int EXDEV = 18;
    static final int EINVAL = 22;
    static final int EFBIG = 27;
    static final int ENOSPC = 28;
    static final int EROFS = 30;
    static final int ERANGE = 34;
    static final int ENAMETOOLONG = 36;
    static final int ENOTEMPTY = 39;
    static final int ENODATA = 61;
    static final int ENETUNREACH = 101;
    static final int EOPNOTSUPP = 95;
    static final int ECONNABORTED = 103;
    static final int ECONNRESET = 104;
    static final int ENOTCONN = 107;
    /** Also Ceph's EBLOCKLISTED: the cluster has blocklisted this client instance. */
    static final int ESHUTDOWN = 108;
    static final int ETIMEDOUT = 110;
    static final int ECONNREFUSED = 111;
    static final int EHOSTUNREACH = 113;
    static final int EDQUOT = 122;
    static final int ECANCELED = 125;

    private record Entry(String name, String text) {
    }

    private static final Map<Integer, Entry> TABLE = Map.ofEntries(
            Map.entry(EPERM, new Entry("EPERM", "Operation not permitted")),
            Map.entry(ENOENT, new Entry("ENOENT", "No such file or directory")),
            Map.entry(EIO, new Entry("EIO", "Input/output error")),
            Map.entry(EAGAIN, new Entry("EAGAIN", "Resource temporarily unavailable")),
            Map.entry(EACCES, new Entry("EACCES", "Permission denied")),
            Map.entry(EBUSY, new Entry("EBUSY", "Device or resource busy")),
            Map.entry(EEXIST, new Entry("EEXIST", "File exists")),
            Map.entry(EXDEV, new Entry("EXDEV", "Invalid cross-device link")),
            Map.entry(EINVAL, new Entry("EINVAL", "Invalid argument")),
            Map.entry(EFBIG, new Entry("EFBIG", "File too large")),
            Map.entry(ENOSPC, new Entry("ENOSPC", "No space left on device")),
            Map.entry(EROFS, new Entry("EROFS", "Read-only file system")),
            Map.entry(ERANGE, new Entry("ERANGE", "Numerical result out of range")),
            Map.entry(ENAMETOOLONG, new Entry("ENAMETOOLONG", "File name too long")),
            Map.entry(ENOTEMPTY, new Entry("ENOTEMPTY", "Directory not empty")),
            Map.entry(ENODATA, new Entry("ENODATA", "No data available")),
            Map.entry(EOPNOTSUPP, new Entry("EOPNOTSUPP", "Operation not supported")),
            Map.entry(ENETUNREACH, new Entry("ENETUNREACH", "Network is unreachable")),
            Map.entry(ECONNABORTED, new Entry("ECONNABORTED", "Software caused connection abort")),
            Map.entry(ECONNRESET, new Entry("ECONNRESET", "Connection reset by peer")),
            Map.entry(ENOTCONN, new Entry("ENOTCONN", "Transport endpoint is not connected")),
            Map.entry(ESHUTDOWN, new Entry("ESHUTDOWN", "Cannot send after transport endpoint shutdown (client blocklisted)")),
            Map.entry(ETIMEDOUT, new Entry("ETIMEDOUT", "Connection timed out")),
            Map.entry(ECONNREFUSED, new Entry("ECONNREFUSED", "Connection refused")),
            Map.entry(EHOSTUNREACH, new Entry("EHOSTUNREACH", "No route to host")),
            Map.entry(EDQUOT, new Entry("EDQUOT", "Disk quota exceeded")),
            Map.entry(ECANCELED, new Entry("ECANCELED", "Operation canceled")));

    private Errno() {
    }

    /** {@code ENOENT} for 2, {@code errno 999} for numbers not in the table. */
    static String name(int errno) {
        Entry e = TABLE.get(errno);
        return e == null ? "errno " + errno : e.name;
    }

    /** strerror(3) text, or "unknown error" for numbers not in the table. */
    static String text(int errno) {
        Entry e = TABLE.get(errno);
        return e == null ? "unknown error" : e.text;
    }
}
