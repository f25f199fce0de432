package dev.nodekit.crishim;

/** {@link ForwardingTest} with every call through grpc-java ({@code passThrough: grpc}), the mode kept to compare. */
class GrpcForwardingTest extends ForwardingTest {
    @Override
    CriShimConfig.PassThrough mode() {
        return CriShimConfig.PassThrough.GRPC;
    }
}
