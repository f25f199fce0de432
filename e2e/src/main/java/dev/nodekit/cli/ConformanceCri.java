package dev.nodekit.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

import dev.nodekit.conformance.cri.CriChecks;
import dev.nodekit.conformance.cri.CriTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code nodekit conformance cri}. */
@Command(name = "cri", mixinStandardHelpOptions = true,
        description = {"Run the CRI suite against a CRI endpoint (unix:///path.sock): a runtime or a proxy in front of one.",
                "Never pulls: the image must be present (checks that need it skip otherwise). Run it on the runtime's",
                "host (the log check reads the container log file); it makes and removes its own pods."})
final class ConformanceCri implements Callable<Integer> {
    @Mixin
    ConformanceOptions common;

    @Option(names = "--endpoint", required = true, paramLabel = "E", description = "Runtime service endpoint.")
    String endpoint;

    @Option(names = "--image-endpoint", paramLabel = "E", description = "Image service endpoint, if separate.")
    String imageEndpoint;

    @Option(names = "--image", paramLabel = "REF", description = "busybox-like image the containers run "
            + "(default: " + CriTarget.DEFAULT_IMAGE + ", what nodekit's test fixture imports).")
    String image;

    @Option(names = "--runtime-handler", paramLabel = "H", description = "Runtime handler for RunPodSandbox "
            + "(default: the runtime's default).")
    String runtimeHandler;

    @Option(names = "--cgroup-parent", paramLabel = "P", description = "Parent cgroup of the test pods: /path "
            + "(cgroupfs) or name.slice (systemd) (default: not set, the runtime decides).")
    String cgroupParent;

    @Option(names = "--log-root", paramLabel = "DIR", description = "Where the pods' log directories go "
            + "(default: the temp dir).")
    Path logRoot;

    @Option(names = "--call-timeout", paramLabel = "SECONDS", description = "Deadline of one CRI call (default: 60).")
    Long callTimeoutSeconds;

    @Override
    public Integer call() throws Exception {
        CriTarget.Config c = CriTarget.Config.of(endpoint);
        if (imageEndpoint != null) {
            c = c.withImageEndpoint(imageEndpoint);
        }
        if (image != null) {
            c = c.withImage(image);
        }
        if (runtimeHandler != null) {
            c = c.withRuntimeHandler(runtimeHandler);
        }
        if (cgroupParent != null) {
            c = c.withCgroupParent(cgroupParent);
        }
        if (logRoot != null) {
            c = c.withLogRoot(logRoot.toAbsolutePath());
        }
        if (callTimeoutSeconds != null) {
            c = c.withCallTimeout(Duration.ofSeconds(callTimeoutSeconds));
        }
        CriTarget.Config config = c;
        return common.runOrList(CriChecks.suite(), () -> CriTarget.connect(config), System.out);
    }
}
