package dev.nodekit.crishim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;

import org.junit.jupiter.api.Test;

import dev.nodekit.spec.cri.v1.ContainerConfig;
import dev.nodekit.spec.cri.v1.ContainerMetadata;
import dev.nodekit.spec.cri.v1.CreateContainerRequest;
import dev.nodekit.spec.cri.v1.StartContainerRequest;

class WireFieldsTest {
    @Test
    void readsATopLevelStringFieldWithoutDecodingTheRest() throws Exception {
        byte[] start = StartContainerRequest.newBuilder().setContainerId("abc").build().toByteArray();
        assertThat(WireFields.string(start, 1)).contains("abc");
        byte[] create = CreateContainerRequest.newBuilder().setPodSandboxId("pod")
                .setConfig(ContainerConfig.newBuilder().setMetadata(ContainerMetadata.newBuilder().setName("x")))
                .build().toByteArray();
        assertThat(WireFields.string(create, 1)).contains("pod");
        assertThat(WireFields.string(create, 7)).isEmpty();
        assertThat(WireFields.string(new byte[0], 1)).isEmpty();
        assertThat(WireFields.string(new byte[] {(byte) 0xff, (byte) 0xff}, 1)).isEmpty();
        // Last one wins, as protobuf merges.
        byte[] twice = concat(start, StartContainerRequest.newBuilder().setContainerId("xyz").build().toByteArray());
        assertThat(WireFields.string(twice, 1)).contains("xyz");
        assertThat(StartContainerRequest.parseFrom(twice).getContainerId()).isEqualTo("xyz");
    }

    @Test
    void rawMessagesKeepTheirBytesAndAnnounceTheirLength() throws Exception {
        byte[] b = {1, 2, 3, 4};
        InputStream s = RawMarshaller.INSTANCE.stream(b);
        assertThat(s).isInstanceOf(io.grpc.KnownLength.class);
        assertThat(s.available()).isEqualTo(4);
        assertThat(RawMarshaller.INSTANCE.parse(s)).containsExactly(1, 2, 3, 4);
        assertThat(RawMarshaller.INSTANCE.parse(new ByteArrayInputStream(b))).containsExactly(1, 2, 3, 4);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
