package dev.nodekit.csi.rbd.ceph;

import java.nio.charset.StandardCharsets;
import java.util.List;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * Builds the {@code const char * const *} + {@code const size_t *} argument pairs of the
 * length-explicit omap calls. The returned object keeps every buffer reachable: librados copies
 * them during the call, but JNA frees a {@link Memory} as soon as it is unreachable.
 */
final class NativeBuffers {
    private final Memory pointers;
    private final Memory lengths;
    @SuppressWarnings("unused") // keeps the element buffers alive while pointers refers to them
    private final Memory[] elements;

    private NativeBuffers(List<byte[]> values) {
        int n = values.size();
        pointers = new Memory((long) Math.max(1, n) * Native.POINTER_SIZE);
        lengths = new Memory((long) Math.max(1, n) * Native.SIZE_T_SIZE);
        elements = new Memory[n];
        for (int i = 0; i < n; i++) {
            byte[] v = values.get(i);
            Memory m = new Memory(Math.max(1, v.length));
            m.write(0, v, 0, v.length);
            elements[i] = m;
            pointers.setPointer((long) i * Native.POINTER_SIZE, m);
            lengths.setLong((long) i * Native.SIZE_T_SIZE, v.length);
        }
    }

    static NativeBuffers ofBytes(List<byte[]> values) {
        return new NativeBuffers(values);
    }

    static NativeBuffers ofStrings(List<String> values) {
        return new NativeBuffers(values.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList());
    }

    /** The {@code char **} array. */
    Pointer pointers() {
        return pointers;
    }

    /** The {@code size_t *} array of lengths. */
    Pointer lengths() {
        return lengths;
    }

    /** Copies {@code len} bytes at {@code p}; an empty array for NULL or zero length. */
    static byte[] copy(Pointer p, long len) {
        if (p == null || len <= 0) {
            return new byte[0];
        }
        return p.getByteArray(0, Math.toIntExact(len));
    }
}
