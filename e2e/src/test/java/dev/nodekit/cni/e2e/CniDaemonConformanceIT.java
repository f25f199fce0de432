package dev.nodekit.cni.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import dev.nodekit.bench.cni.CniDaemonProcess;
import dev.nodekit.cni.install.InstallSpec;
import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.conformance.JUnitSuites;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.cni.CniChecks;
import dev.nodekit.conformance.cni.CniTarget;

/**
 * The whole CNI conformance suite, every version, on the thin-client path: the C client in the bin
 * dir, {@code nodekit cni daemon} up in its own process. The JVM launchers the client would fall back
 * to are replaced by scripts that fail, so a call that did not go through the daemon fails its check.
 */
@Requires({Requirement.ROOT, Requirement.NETNS, Requirement.IPTABLES, Requirement.CNI_REFERENCE_PLUGINS,
    Requirement.C_COMPILER})
class CniDaemonConformanceIT {
    static Path socketDir;
    static CniHost host;
    static CniDaemonProcess daemon;
    static CniTarget target;

    @BeforeAll
    static void open() throws Exception {
        socketDir = Path.of("/run/nkcit-" + Long.toHexString(System.nanoTime() & 0xffffffL));
        Path socket = socketDir.resolve("cni.sock");
        host = CniHost.create(false, InstallSpec.ClientMode.THIN, socket);
        for (String name : new String[] {"nodekit-bridge", "nodekit-host-local", "nodekit-loopback"}) {
            Path launcher = host.dir.resolve("lib/launchers").resolve(name);
            Files.writeString(launcher, "#!/bin/sh\necho '{\"code\":999,\"msg\":\"fallback used: the daemon did not serve "
                    + "this call\"}'\nexit 1\n");
            Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        daemon = CniDaemonProcess.start(socket, host.dir.resolve("daemon.log"), Duration.ofMinutes(2));
        target = CniTarget.open(new CniTarget.Config(host.bin, new CniTarget.Generated("nodekit-bridge",
                "nodekit-host-local"), Optional.empty(), Duration.ofSeconds(120)));
    }

    @AfterAll
    static void close() throws Exception {
        try {
            CniHost.closeAndReport(target, "nodekit daemon");
        } finally {
            try {
                if (daemon != null) {
                    daemon.stop(Duration.ofSeconds(40));
                    assertThat(Files.exists(daemon.socket())).as("the daemon removed its socket on SIGTERM").isFalse();
                }
            } finally {
                if (host != null) {
                    host.close();
                }
                Files.deleteIfExists(socketDir);
            }
        }
    }

    @Test
    void claimsEveryVersionFrom030To110() {
        assertThat(target.versions()).containsExactly("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0");
    }

    @TestFactory
    Stream<DynamicTest> suite() {
        return JUnitSuites.dynamicTests(CniChecks.suite(), () -> target, RunOptions.defaults());
    }
}
