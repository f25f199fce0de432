package dev.nodekit.demo;

import static dev.nodekit.common.Requirement.CONTAINERD;
import static dev.nodekit.common.Requirement.IPTABLES;
import static dev.nodekit.common.Requirement.LOOP_DEVICES;
import static dev.nodekit.common.Requirement.NETNS;
import static dev.nodekit.common.Requirement.ROOT;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.ProcessCommandRunner;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.e2e.CsiDriverProcess;
import dev.nodekit.e2e.node.Footprint;
import dev.nodekit.e2e.node.RunMarks;

/**
 * {@code bin/nodekit demo} as a user runs it (a child process, default log level): to the end with
 * containerd, to the end without it, with the daemons as child processes, and interrupted with
 * SIGINT (Ctrl-C) in the middle. Each time the machine must be left as it was found: nothing of the
 * run on the host, and the host-wide state containerd and the bridge plugin touch put back.
 */
@Requires({ROOT, CONTAINERD, NETNS, IPTABLES, LOOP_DEVICES})
class DemoIT {
    private static final Pattern RUN_LINE = Pattern.compile("^run ([0-9a-f]{8}): everything lives under (\\S+) ");
    private static final Pattern STEP_LINE = Pattern.compile("^\\s*(\\d+)\\.\\s+\\d+\\.\\d\\d s  (.*)$");
    private static final Duration LIMIT = Duration.ofMinutes(3);

    @Test
    void runsToTheEndWithContainerdAndLeavesNothing() throws Exception {
        HostWide before = HostWide.now();
        Run r = Run.start(List.of("demo"));
        int exit = r.awaitExit(LIMIT);
        System.out.println("nodekit demo output:\n" + r.text());
        assertThat(exit).as("exit code; stderr:\n%s", r.stderr()).isZero();
        assertThat(r.lines()).anyMatch(l -> l.startsWith("containerd is installed"));
        assertThat(r.steps()).as("numbered step lines").hasSize(17).noneMatch(l -> l.contains("FAILED"));
        assertThat(r.text()).contains("RunPodSandbox web through the shim: IP ", "client: wget http://",
                "NodeStageVolume again: hello.txt reads 'hello from pod web, run " + r.marks().runId() + "'");
        assertThat(r.lines().get(r.lines().size() - 1)).startsWith("done: 17 steps in ");
        assertLeftNothing(r.marks(), before);
        System.out.println("nodekit demo (containerd) wall time: " + r.wallMillis() + " ms");
    }

    @Test
    void withoutContainerdShowsTheCniAndCsiPartsAndLeavesNothing() throws Exception {
        HostWide before = HostWide.now();
        Run r = Run.start(List.of("demo", "--no-containerd"));
        int exit = r.awaitExit(LIMIT);
        System.out.println("nodekit demo --no-containerd output:\n" + r.text());
        assertThat(exit).as("exit code; stderr:\n%s", r.stderr()).isZero();
        assertThat(r.lines()).anyMatch(l -> l.startsWith("no containerd (--no-containerd was given): showing the CNI "
                + "part on plain network namespaces and the CSI part on its own."));
        assertThat(r.steps()).hasSize(13).noneMatch(l -> l.contains("FAILED"));
        assertThat(r.text()).contains("ping ", "reply time=");
        assertLeftNothing(r.marks(), before);
        System.out.println("nodekit demo --no-containerd wall time: " + r.wallMillis() + " ms");
    }

    @Test
    void withTheDaemonsAsChildProcesses() throws Exception {
        HostWide before = HostWide.now();
        Run r = Run.start(List.of("demo", "--child-processes"));
        int exit = r.awaitExit(LIMIT);
        assertThat(exit).as("exit code; output:\n%s\nstderr:\n%s", r.text(), r.stderr()).isZero();
        assertThat(r.steps()).hasSize(17);
        assertLeftNothing(r.marks(), before);
        System.out.println("nodekit demo --child-processes wall time: " + r.wallMillis() + " ms");
    }

    @Test
    void ctrlCInTheMiddleLeavesTheMachineAsItFoundIt() throws Exception {
        HostWide before = HostWide.now();
        // Step by step, with Enter given for steps 1-9 only: the demo then waits before step 10,
        // so the Ctrl-C below lands mid-way however fast the machine runs the steps.
        Run r = Run.start(List.of("demo", "--step-by-step"));
        r.type("\n".repeat(9));
        // Step 9: a pod runs a container with the staged and published volume; plenty to undo.
        r.awaitLine(l -> l.matches("^\\s*9\\.\\s.*"), LIMIT);
        r.awaitLine(l -> l.startsWith("    next: step 10, "), LIMIT);
        Footprint during = Footprint.scan(r.marks(), Set.of(), null, new ProcessCommandRunner());
        assertThat(during.count(Footprint.Kind.MOUNT)).as("mounts mid-way: %s", during).isPositive();
        assertThat(during.count(Footprint.Kind.LOOP_DEVICE)).as("loop devices mid-way").isEqualTo(1);
        assertThat(during.count(Footprint.Kind.PROCESS)).as("containerd and its shims mid-way").isPositive();
        assertThat(during.count(Footprint.Kind.BRIDGE)).as("the pod bridge mid-way").isEqualTo(1);
        long t0 = System.nanoTime();
        new ProcessCommandRunner().runChecked(Command.of("kill", "-INT", Long.toString(r.pid())));
        int exit = r.awaitExit(LIMIT);
        long stopMillis = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("nodekit demo interrupted, output:\n" + r.text() + "\nstderr:\n" + r.stderr());
        assertThat(exit).as("exit code after SIGINT").isEqualTo(DemoCommand.EXIT_INTERRUPTED);
        assertThat(r.text()).contains("Ctrl-C: stopping after the current step",
                "nothing of run " + r.marks().runId() + " is left on this machine.");
        assertThat(r.text()).doesNotContain("done: ");
        assertThat(r.steps()).as("steps run").hasSize(9);
        assertLeftNothing(r.marks(), before);
        System.out.println("nodekit demo: SIGINT to exit " + stopMillis + " ms");
    }

    private static void assertLeftNothing(RunMarks marks, HostWide before) throws IOException {
        Footprint after = Footprint.scan(marks, Set.of(), null, new ProcessCommandRunner());
        assertThat(after.findings()).as("what run %s left", marks.runId()).isEmpty();
        assertThat(HostWide.now()).as("host-wide state containerd and the bridge plugin change").isEqualTo(before);
    }

    /**
     * Host-wide state a run touches outside its own names: forwarding (the bridge plugin's
     * isGateway) and the directories containerd and libcni create when absent.
     */
    record HostWide(String ipForward, boolean runContainerd, boolean varLibCni, boolean varLibCniResults) {
        static HostWide now() throws IOException {
            return new HostWide(Files.readString(Path.of("/proc/sys/net/ipv4/ip_forward")).strip(),
                    Files.exists(Path.of("/run/containerd")), Files.exists(Path.of("/var/lib/cni")),
                    Files.exists(Path.of("/var/lib/cni/results")));
        }
    }

    /** A running {@code bin/nodekit demo ...}: its lines as they come. */
    static final class Run {
        private final Process process;
        private final List<String> lines = Collections.synchronizedList(new ArrayList<>());
        private final CompletableFuture<String> stderr;
        private final long started = System.nanoTime();
        private long ended;

        private Run(Process process) {
            this.process = process;
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String l; (l = in.readLine()) != null;) {
                        lines.add(l);
                    }
                } catch (IOException e) {
                    lines.add("(reading stdout failed: " + e + ")");
                }
            }, "demo-stdout");
            reader.setDaemon(true);
            reader.start();
            stderr = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "(reading stderr failed: " + e + ")";
                }
            });
        }

        static Run start(List<String> args) throws IOException {
            // A build started in the background by a non-interactive shell ('cmd &') runs with SIGINT
            // ignored, every child inherits that, and a JVM never handles a signal ignored at its
            // start: the demo would not see the test's Ctrl-C. env resets it to the default.
            List<String> cmd = new ArrayList<>(List.of("env", "--default-signal=INT"));
            cmd.add(CsiDriverProcess.launcher().toString());
            cmd.addAll(args);
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().remove("NODEKIT_LOG_LEVEL"); // as a user runs it: the demo's own default
            return new Run(pb.start());
        }

        long pid() {
            return process.pid();
        }

        /** Types {@code text} on the demo's standard input. */
        void type(String text) throws IOException {
            process.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
            process.getOutputStream().flush();
        }

        int awaitExit(Duration limit) throws InterruptedException {
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                // SIGTERM first: the demo's hook tears the run down as on Ctrl-C (a kill -9 would
                // leave its containerd, mounts and loop device on the machine).
                process.destroy();
                if (!process.waitFor(90, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
                throw new AssertionError("the demo did not end within " + limit + "; output:\n" + text());
            }
            ended = System.nanoTime();
            Thread.sleep(100); // let the reader take the last lines
            return process.exitValue();
        }

        void awaitLine(Predicate<String> p, Duration limit) throws InterruptedException {
            long end = System.nanoTime() + limit.toNanos();
            while (System.nanoTime() < end) {
                synchronized (lines) {
                    if (lines.stream().anyMatch(p)) {
                        return;
                    }
                }
                if (!process.isAlive()) {
                    throw new AssertionError("the demo ended (" + process.exitValue() + ") before the line; output:\n"
                            + text() + "\nstderr:\n" + stderr());
                }
                Thread.sleep(20);
            }
            throw new AssertionError("no such line within " + limit + "; output:\n" + text());
        }

        List<String> lines() {
            synchronized (lines) {
                return List.copyOf(lines);
            }
        }

        String text() {
            return String.join("\n", lines());
        }

        String stderr() {
            try {
                return stderr.get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                return "(stderr unavailable: " + e + ")";
            }
        }

        List<String> steps() {
            return lines().stream().filter(l -> STEP_LINE.matcher(l).matches()).toList();
        }

        RunMarks marks() {
            for (String l : lines()) {
                Matcher m = RUN_LINE.matcher(l);
                if (m.find()) {
                    return new RunMarks(m.group(1), Path.of(m.group(2)));
                }
            }
            throw new AssertionError("no 'run <id>: everything lives under <dir>' line in:\n" + text());
        }

        long wallMillis() {
            return ((ended == 0 ? System.nanoTime() : ended) - started) / 1_000_000;
        }
    }
}
