package dev.nodekit.csi.rbd.ceph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CephExceptionTest {

    @Test
    void mapsErrnoToTheFailureACallerDecidesOn() {
        assertThat(CephException.fromReturnCode(-2, "w")).isInstanceOf(CephNotFoundException.class);
        assertThat(CephException.fromReturnCode(-17, "w")).isInstanceOf(CephAlreadyExistsException.class);
        assertThat(CephException.fromReturnCode(-1, "w")).isInstanceOf(CephPermissionDeniedException.class);
        assertThat(CephException.fromReturnCode(-13, "w")).isInstanceOf(CephPermissionDeniedException.class);
        for (int errno : new int[] {110, 107, 108, 111, 113}) {
            assertThat(CephException.fromReturnCode(-errno, "w")).as("errno %d", errno)
                    .isInstanceOf(CephUnavailableException.class);
        }
        assertThat(CephException.fromReturnCode(-16, "w")).isInstanceOf(CephBusyException.class);
        assertThat(CephException.fromReturnCode(-22, "w")).isExactlyInstanceOf(CephException.class);
        assertThat(CephException.fromReturnCode(-9999, "w")).isExactlyInstanceOf(CephException.class);
    }

    @Test
    void carriesErrnoAndWhatInAClearMessage() {
        CephException e = CephException.fromReturnCode(-17, "rbd create pool=rbd image=a", "hint here");
        assertThat(e.errno()).isEqualTo(17);
        assertThat(e.errnoName()).isEqualTo("EEXIST");
        assertThat(e.what()).isEqualTo("rbd create pool=rbd image=a");
        assertThat(e.getMessage()).isEqualTo("rbd create pool=rbd image=a: EEXIST (File exists); hint here");
        assertThat(CephException.fromReturnCode(-9999, "x").getMessage()).isEqualTo("x: errno 9999 (unknown error)");
        // Positive codes are treated the same (some callers pass -rc).
        assertThat(CephException.fromReturnCode(2, "x")).isInstanceOf(CephNotFoundException.class);
    }

    @Test
    void checkPassesNonNegativeCodesThrough() throws CephException {
        assertThat(CephException.check(0, "x")).isZero();
        assertThat(CephException.check(5, "x")).isEqualTo(5);
        assertThatThrownBy(() -> CephException.check(-110, "rados connect")).isInstanceOf(CephUnavailableException.class)
                .hasMessage("rados connect: ETIMEDOUT (Connection timed out)");
    }

    @Test
    void unmappedKeepsTheErrnoButNotTheMeaning() {
        CephException e = CephException.unmapped(-1, "rbd trash remove", "deferment");
        assertThat(e).isExactlyInstanceOf(CephException.class);
        assertThat(e.errnoName()).isEqualTo("EPERM");
        assertThat(e.getMessage()).contains("deferment");
    }

    @Test
    void blocklistedIsTheOneUnavailableThatNeedsANewConnection() {
        assertThat(((CephUnavailableException) CephException.fromReturnCode(-108, "x")).blocklisted()).isTrue();
        assertThat(((CephUnavailableException) CephException.fromReturnCode(-110, "x")).blocklisted()).isFalse();
    }
}
