package dev.nodekit.crishim;

/** {@link UpstreamFailureTest} with every call through grpc-java ({@code passThrough: grpc}), the mode kept to compare. */
class GrpcUpstreamFailureTest extends UpstreamFailureTest {
    @Override
    CriShimConfig.PassThrough mode() {
        return CriShimConfig.PassThrough.GRPC;
    }
}
