package dev.nodekit.csi.rbd.ceph;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.sun.jna.Native;

class NativeBuffersTest {

    @Test
    void pointerAndLengthArraysDescribeEachValue() {
        NativeBuffers b = NativeBuffers.ofStrings(List.of("csi.volume.a", "", "ü"));
        assertThat(b.lengths().getLong(0)).isEqualTo(12);
        assertThat(b.lengths().getLong(Native.SIZE_T_SIZE)).isZero();
        assertThat(b.lengths().getLong(2L * Native.SIZE_T_SIZE)).isEqualTo(2);
        assertThat(b.pointers().getPointer(0).getByteArray(0, 12)).isEqualTo("csi.volume.a".getBytes());
        assertThat(b.pointers().getPointer(2L * Native.POINTER_SIZE).getByteArray(0, 2))
                .isEqualTo("ü".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void copyHandlesNullAndEmpty() {
        assertThat(NativeBuffers.copy(null, 5)).isEmpty();
        NativeBuffers b = NativeBuffers.ofBytes(List.of(new byte[] {7, 8}));
        assertThat(NativeBuffers.copy(b.pointers().getPointer(0), 0)).isEmpty();
        assertThat(NativeBuffers.copy(b.pointers().getPointer(0), 2)).containsExactly(7, 8);
    }
}
