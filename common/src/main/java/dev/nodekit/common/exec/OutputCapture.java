package dev.nodekit.common.exec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Drains one output stream to its end, keeping the first {@code limit} bytes and counting the rest. */
final class OutputCapture {
    private final int limit;
    private byte[] buf = new byte[256];
    private int size;
    private long total;

    OutputCapture(int limit) {
        this.limit = limit;
    }

    /**
     * Reads {@code in} until end of stream. Never stops early: a child blocked on a full pipe
     * would otherwise hang. A read error (the stream was closed under us) ends the drain.
     */
    void drain(InputStream in) {
        byte[] chunk = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(chunk)) != -1) {
                append(chunk, n);
            }
        } catch (IOException e) {
            // The process is gone and its pipe closed; what was read is kept.
        }
    }

    private synchronized void append(byte[] chunk, int n) {
        total += n;
        int keep = (int) Math.min(n, limit - (long) size);
        if (keep <= 0) {
            return;
        }
        if (size + keep > buf.length) {
            int cap = (int) Math.min(limit, Math.max((long) buf.length * 2, size + keep));
            buf = Arrays.copyOf(buf, cap);
        }
        System.arraycopy(chunk, 0, buf, size, keep);
        size += keep;
    }

    /** What was kept so far, decoded as UTF-8 with malformed input replaced. */
    synchronized String text() {
        return new String(buf, 0, size, StandardCharsets.UTF_8);
    }

    /** True when more bytes arrived than were kept. */
    synchronized boolean truncated() {
        return total > size;
    }

    /** All bytes seen, kept or not. */
    synchronized long total() {
        return total;
    }
}
