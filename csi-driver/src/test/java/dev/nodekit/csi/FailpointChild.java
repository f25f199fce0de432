package dev.nodekit.csi;

/** Child JVM for {@link FailpointsTest}: passes an unarmed point, then hits {@code args[0]}. */
public final class FailpointChild {
    private FailpointChild() {
    }

    /** Entry point. */
    public static void main(String[] args) {
        Failpoints.hit(Failpoints.Point.LOCAL_DELETE_DONE);
        System.out.println("passed " + Failpoints.armed());
        System.out.flush();
        Failpoints.hit(Failpoints.Point.byId(args[0]));
        System.out.println("after");
    }
}
