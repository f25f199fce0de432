package dev.nodekit.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import dev.nodekit.csi.spi.StorageException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

class StatusMapperTest {
    @Test
    void everyStorageExceptionKindHasExactlyOneCode() {
        Set<Class<?>> kinds = Arrays.stream(StorageException.class.getPermittedSubclasses()).collect(Collectors.toSet());
        assertThat(StatusMapper.CODES.keySet()).isEqualTo(kinds);
        assertThat(EnumSet.copyOf(StatusMapper.CODES.values())).doesNotContain(Status.Code.OK, Status.Code.UNKNOWN);
    }

    @Test
    void codesFollowTheCsiErrorTables() {
        assertThat(code(new StorageException.NotFound("x"))).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(code(new StorageException.Conflict("x"))).isEqualTo(Status.Code.ALREADY_EXISTS);
        assertThat(code(new StorageException.InvalidToken("x"))).isEqualTo(Status.Code.ABORTED);
        assertThat(code(new StorageException.Pending("x"))).isEqualTo(Status.Code.ABORTED);
        assertThat(code(new StorageException.CapacityExceeded("x"))).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(code(new StorageException.OutOfRange("x"))).isEqualTo(Status.Code.OUT_OF_RANGE);
        assertThat(code(new StorageException.FailedPrecondition("x"))).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(code(new StorageException.InvalidArgument("x"))).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void theMessageIsTheBackendsAndDetailsStayEmpty() {
        StatusRuntimeException e = StatusMapper.toStatus(new StorageException.Internal("journal unreadable",
                new IllegalStateException("cause")), "CreateVolume");
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(e.getStatus().getDescription()).isEqualTo("journal unreadable");
        assertThat(e.getTrailers()).isNull();
    }

    private static Status.Code code(StorageException e) {
        return StatusMapper.toStatus(e, "test").getStatus().getCode();
    }
}
