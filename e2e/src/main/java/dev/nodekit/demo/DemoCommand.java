package dev.nodekit.demo;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import dev.nodekit.common.Requirement;
import dev.nodekit.demo.Narrator.Cancelled;
import dev.nodekit.demo.Narrator.StepFailed;
import dev.nodekit.e2e.node.Footprint;
import dev.nodekit.e2e.node.LocalNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code nodekit demo}: one node's three plugins working together the way kubelet drives them,
 * narrated step by step with timings, on the embedded local storage backend. With containerd
 * installed, a private containerd runs the pods; without it the CNI part runs on plain network
 * namespaces and the CSI part on its own. Needs root. Always cleans up, also on Ctrl-C.
 *
 * <p>Exit codes: 0 when every step held, 1 when one failed (its line says why; the demo still
 * cleans up), 2 when the host cannot run it (not root, no loop devices...), 130 after Ctrl-C.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Show nodekit's CSI driver, CNI plugins and CRI shim working together on this machine, "
                + "the way kubelet uses them, step by step with timings. Needs root; removes everything it made, "
                + "also on Ctrl-C."})
public final class DemoCommand implements Callable<Integer> {
    /** Exit code after Ctrl-C (128 + SIGINT), as a shell reports it. */
    static final int EXIT_INTERRUPTED = 130;
    private static final Duration HOOK_WAIT = Duration.ofSeconds(90);

    @Spec
    CommandSpec spec;

    @Option(names = "--no-containerd", description = "Run the part without containerd even when it is installed "
            + "(the CNI plugins on plain network namespaces, the CSI driver on its own).")
    boolean noContainerd;

    @Option(names = "--child-processes", description = "Run the CRI shim and the CSI driver as 'nodekit cri-shim' "
            + "and 'nodekit csi' child processes instead of inside this one (slower to start, as on a node).")
    boolean childProcesses;

    @Option(names = "--step-by-step", description = "Say what the next step does and wait for Enter before running "
            + "it (for presenting the demo); Ctrl-C while waiting stops and cleans up.")
    boolean stepByStep;

    private final Host host;

    /** The command on the real host. */
    public DemoCommand() {
        this(Host.real());
    }

    DemoCommand(Host host) {
        this.host = host;
    }

    /**
     * What the demo asks of the machine, as reasons it cannot run (empty: it can). Injected so the
     * refusals can be tested on a machine that has everything.
     *
     * @param rootMissing       why this is not root
     * @param basicsMissing     why the CSI and CNI parts cannot run (loop devices, netns, iptables)
     * @param containerdMissing why there is no containerd to run pods
     */
    record Host(Supplier<Optional<String>> rootMissing, Supplier<Optional<String>> basicsMissing,
            Supplier<Optional<String>> containerdMissing) {
        static Host real() {
            return new Host(Requirement.ROOT::missing, () -> {
                for (Requirement r : new Requirement[] {Requirement.LOOP_DEVICES, Requirement.NETNS,
                        Requirement.IPTABLES}) {
                    if (r.missing().isPresent()) {
                        return Optional.of(r.id() + ": " + r.missing().get());
                    }
                }
                return Optional.empty();
            }, Requirement.CONTAINERD::missing);
        }
    }

    /**
     * Before anything logs: {@code nodekit demo} narrates on stdout, so the components it runs log
     * only warnings unless {@code NODEKIT_LOG_LEVEL} asks for more. (The level is read once, when
     * the first logger is made, which building the command line already does.)
     */
    public static void quietLogsFor(String... args) {
        if (args.length > 0 && args[0].equals("demo") && System.getenv("NODEKIT_LOG_LEVEL") == null
                && System.getProperty("nodekit.log.level") == null) {
            System.setProperty("nodekit.log.level", "WARN");
        }
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (host.rootMissing().get().isPresent()) {
            err.println("nodekit demo needs root, because it mounts a volume, creates network namespaces and starts "
                    + "containerd: run it again as root (sudo bin/nodekit demo).");
            err.flush();
            return 2;
        }
        Optional<String> basics = host.basicsMissing().get();
        if (basics.isPresent()) {
            err.println("nodekit demo cannot run on this machine: " + basics.get() + ".");
            err.flush();
            return 2;
        }
        Optional<String> noRuntime = noContainerd ? Optional.of("--no-containerd was given")
                : host.containerdMissing().get();

        Cancellation cancel = new Cancellation();
        Narrator say = new Narrator(out, cancel, stepByStep ? StepGate.enterOn(System.in) : StepGate.none());
        // The hook is in place before anything is made, so no Ctrl-C falls between making and guarding.
        AtomicReference<LocalNode> made = new AtomicReference<>();
        Thread hook = new Thread(() -> {
            say.println("Ctrl-C: stopping after the current step, then removing everything this run made...");
            cancel.request();
            if (!cancel.awaitDone(HOOK_WAIT) && made.get() != null) {
                // The demo's thread is stuck in a step: tear down from here before the JVM exits.
                closeQuietly(made.get(), err);
            }
        }, "nodekit-demo-ctrl-c");
        Runtime.getRuntime().addShutdownHook(hook);
        LocalNode node;
        try {
            node = LocalNode.create(LocalNode.Options.defaults().withDaemons(
                    childProcesses ? LocalNode.Daemons.CHILD_PROCESSES : LocalNode.Daemons.IN_PROCESS));
            made.set(node);
        } catch (Exception e) {
            err.println("nodekit demo: cannot prepare a run dir: " + e.getMessage());
            cancel.done();
            removeHook(hook);
            return 1;
        }

        int exit = 1; // until a path below says otherwise (an Error escaping a step)
        try {
            header(say, node, noRuntime);
            NodeDemo demo = new NodeDemo(node, say);
            if (noRuntime.isEmpty()) {
                demo.withContainerd();
            } else {
                demo.withoutContainerd();
            }
            say.println(String.format(java.util.Locale.ROOT, "done: %d steps in %s; nothing of this run is left "
                    + "on this machine.", say.steps(), Narrator.seconds(say.elapsed().toNanos())));
            exit = 0;
        } catch (Cancelled e) {
            exit = EXIT_INTERRUPTED;
        } catch (StepFailed e) {
            if (cancel.requested()) {
                // In a terminal Ctrl-C reaches the whole foreground group: a command the step ran
                // (mount, mkfs) may have died of it. That is the interrupt, not a failure.
                exit = EXIT_INTERRUPTED;
            } else {
                err.println("nodekit demo: step '" + e.title() + "' failed; cleaning up.");
                err.flush();
                exit = 1;
            }
        } catch (RuntimeException e) {
            err.println("nodekit demo: " + Narrator.message(e) + "; cleaning up.");
            err.flush();
            exit = 1;
        } finally {
            if (!node.isClosed() || exit != 0) {
                exit = cleanUp(node, say, err, exit);
            }
            cancel.done();
        }
        removeHook(hook);
        return exit;
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // Ctrl-C: the hook is running and waits for cancel.done(), already given.
        }
    }

    private static void header(Narrator say, LocalNode node, Optional<String> noRuntime) {
        say.println("nodekit demo: a pod with nodekit's network and volume, through nodekit's runtime proxy, "
                + "driven the way kubelet drives a node.");
        say.println("run " + node.marks().runId() + ": everything lives under " + node.marks().runDir()
                + " and is removed at the end, also on Ctrl-C.");
        if (noRuntime.isEmpty()) {
            say.println("containerd is installed: the pods run in a private containerd started for this demo "
                    + (node.options().daemons() == LocalNode.Daemons.IN_PROCESS
                            ? "(the CRI shim and the CSI driver run inside this process)." : "."));
        } else {
            say.println("no containerd (" + noRuntime.get() + "): showing the CNI part on plain network namespaces "
                    + "and the CSI part on its own.");
        }
    }

    /** Teardown after a failure or Ctrl-C: says what it found and removed; returns the exit code to use. */
    private static int cleanUp(LocalNode node, Narrator say, PrintWriter err, int exit) {
        long t0 = System.nanoTime();
        boolean ok = closeQuietly(node, err);
        Footprint left;
        try {
            left = node.footprint();
        } catch (Exception e) {
            err.println("nodekit demo: cannot check what is left: " + e.getMessage());
            return exit == 0 ? 1 : exit;
        }
        if (left.isClean() && ok) {
            say.println("cleaned up in " + Narrator.seconds(System.nanoTime() - t0) + ": nothing of run "
                    + node.marks().runId() + " is left on this machine.");
            return exit;
        }
        err.println("nodekit demo: could not remove everything of run " + node.marks().runId() + ": " + left);
        err.flush();
        return exit == 0 ? 1 : exit;
    }

    private static boolean closeQuietly(LocalNode node, PrintWriter err) {
        try {
            node.close();
            return true;
        } catch (RuntimeException e) {
            err.println("nodekit demo: " + e.getMessage());
            err.flush();
            return false;
        }
    }
}
