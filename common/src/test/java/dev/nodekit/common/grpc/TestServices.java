package dev.nodekit.common.grpc;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import dev.nodekit.spec.csi.v1.GetPluginInfoRequest;
import dev.nodekit.spec.csi.v1.GetPluginInfoResponse;
import dev.nodekit.spec.csi.v1.IdentityGrpc;
import dev.nodekit.spec.csi.v1.ProbeRequest;
import dev.nodekit.spec.csi.v1.ProbeResponse;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

/** Small services for the server tests: a CSI Identity whose Probe can be slow, and a raw-bytes echo of the request size. */
final class TestServices {
    static final String PLUGIN_NAME = "test.nodekit.dev";

    private TestServices() {
    }

    /**
     * GetPluginInfo answers at once. Probe prints {@code IN-FLIGHT} to stdout, then answers ready
     * once {@code releaseFile} exists (if given) or after {@code probeMillis}, whichever is first:
     * the test decides when the in-flight call ends instead of racing a sleep.
     */
    static final class SlowIdentity extends IdentityGrpc.IdentityImplBase {
        private final long probeMillis;
        private final Path releaseFile;

        SlowIdentity(long probeMillis) {
            this(probeMillis, null);
        }

        SlowIdentity(long probeMillis, Path releaseFile) {
            this.probeMillis = probeMillis;
            this.releaseFile = releaseFile;
        }

        @Override
        public void getPluginInfo(GetPluginInfoRequest request, StreamObserver<GetPluginInfoResponse> out) {
            out.onNext(GetPluginInfoResponse.newBuilder().setName(PLUGIN_NAME).setVendorVersion("1").build());
            out.onCompleted();
        }

        @Override
        public void probe(ProbeRequest request, StreamObserver<ProbeResponse> out) {
            System.out.println("IN-FLIGHT");
            System.out.flush();
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(probeMillis);
            try {
                while (System.nanoTime() < end && (releaseFile == null || !Files.exists(releaseFile))) {
                    Thread.sleep(10);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                out.onError(io.grpc.Status.CANCELLED.withDescription("interrupted").asRuntimeException());
                return;
            }
            out.onNext(ProbeResponse.newBuilder().setReady(com.google.protobuf.BoolValue.of(true)).build());
            out.onCompleted();
        }
    }

    /** Passes byte arrays through unchanged, so message size is exactly the array length. */
    static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    /** {@code nodekit.test.Bytes/Size}: answers the request's length as 4 big-endian bytes. */
    static final MethodDescriptor<byte[], byte[]> SIZE = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("nodekit.test.Bytes/Size")
            .setRequestMarshaller(RAW)
            .setResponseMarshaller(RAW)
            .build();

    static ServerServiceDefinition bytesService() {
        return ServerServiceDefinition.builder("nodekit.test.Bytes")
                .addMethod(SIZE, ServerCalls.asyncUnaryCall((byte[] req, StreamObserver<byte[]> out) -> {
                    out.onNext(ByteBuffer.allocate(4).putInt(req.length).array());
                    out.onCompleted();
                }))
                .build();
    }
}
