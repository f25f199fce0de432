package dev.nodekit.csi.rbd.ceph;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CephNativeTest {

    @Test
    void aMissingLibraryIsAClearCheckedError() {
        assertThatThrownBy(() -> CephNative.load("libnodekit-missing-rados.so.2", "librbd.so.1"))
                .isInstanceOf(CephLibraryUnavailableException.class)
                .hasMessageContaining("cannot load libnodekit-missing-rados.so.2")
                .hasMessageContaining("librados2");
    }
}
