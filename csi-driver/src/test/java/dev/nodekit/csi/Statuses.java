package dev.nodekit.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Asserts on the status a call fails with. */
final class Statuses {
    private Statuses() {
    }

    /** Runs {@code call}, asserts it fails with {@code code} and no details, returns the description. */
    static String expect(Status.Code code, ThrowingCallable call) {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call);
        assertThat(e).as("expected %s", code).isNotNull();
        assertThat(e.getStatus().getCode()).as("code; description: %s", e.getStatus().getDescription()).isEqualTo(code);
        assertThat(e.getTrailers() == null || !e.getTrailers().containsKey(
                io.grpc.Metadata.Key.of("grpc-status-details-bin", io.grpc.Metadata.BINARY_BYTE_MARSHALLER)))
                .as("details must be empty").isTrue();
        return e.getStatus().getDescription() == null ? "" : e.getStatus().getDescription();
    }
}
