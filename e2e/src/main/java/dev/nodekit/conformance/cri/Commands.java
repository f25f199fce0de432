package dev.nodekit.conformance.cri;

import java.util.List;

/**
 * The commands the checks run in containers, written for busybox {@code sh}. Kept in one place so
 * that what a check expects and what it runs cannot drift apart.
 */
final class Commands {
    /**
     * Runs until stopped and exits 0 on SIGTERM. A PID 1 that does not trap TERM ignores it (the
     * kernel gives PID 1 no default handlers), and StopContainer then waits its whole timeout.
     */
    static final List<String> SLEEPER = List.of("sh", "-c", "trap 'exit 0' TERM; sleep 2147483647 & wait");

    /** The line {@link #SLEEPER_ANNOUNCING} prints once its TERM trap is in place. */
    static final String TRAP_READY = "nodekit-trap-ready";

    /**
     * {@link #SLEEPER} that prints {@link #TRAP_READY} once the trap is set: a TERM that arrives
     * earlier (StopContainer right after StartContainer) kills the shell before it can trap, with
     * exit code 143, so a check that expects exit 0 must wait for the line first.
     */
    static final List<String> SLEEPER_ANNOUNCING = List.of("sh", "-c",
            "trap 'exit 0' TERM; echo " + TRAP_READY + "; sleep 2147483647 & wait");

    /** PID 1 that ignores SIGTERM: only the kill after StopContainer's timeout ends it. */
    static final List<String> IGNORES_TERM = List.of("sleep", "2147483647");

    /** The port {@link #httpServer()} listens on inside the pod. */
    static final int HTTP_PORT = 8080;

    private Commands() {
    }

    /** Exits with {@code code} at once. */
    static List<String> exitWith(int code) {
        return List.of("sh", "-c", "exit " + code);
    }

    /** Prints {@code out} on stdout and {@code err} on stderr (each with a newline), then exits {@code code}. */
    static List<String> print(String out, String err, int code) {
        return List.of("sh", "-c", "echo " + out + "; echo " + err + " >&2; exit " + code);
    }

    /** Prints {@code out} and {@code err} once, then sleeps like {@link #SLEEPER}. */
    static List<String> printThenSleep(String out, String err) {
        return List.of("sh", "-c", "echo " + out + "; echo " + err + " >&2; trap 'exit 0' TERM; sleep 2147483647 & wait");
    }

    /** Prints {@code token} on stdout every 200 ms until stopped. */
    static List<String> ticker(String token) {
        return List.of("sh", "-c", "trap 'exit 0' TERM; while true; do echo " + token + "; sleep 0.2; done");
    }

    /** busybox httpd on {@link #HTTP_PORT} serving /etc, whose hostname file holds the pod's hostname. */
    static List<String> httpServer() {
        return List.of("sh", "-c", "trap 'exit 0' TERM; httpd -f -p " + HTTP_PORT + " -h /etc & wait");
    }

    /** GETs {@code path} from the pod's own HTTP server (readiness probe). */
    static List<String> httpGet(String path) {
        return List.of("wget", "-q", "-O", "-", "http://127.0.0.1:" + HTTP_PORT + path);
    }

    /** Sleeps {@code seconds}: an ExecSync that must be cut by its timeout. */
    static List<String> sleep(long seconds) {
        return List.of("sleep", Long.toString(seconds));
    }

    /** Prints every process's command line, one per line (busybox has no pgrep -f that excludes itself). */
    static final List<String> PROCESS_LIST = List.of("sh", "-c",
            "for p in /proc/[0-9]*; do tr '\\000' ' ' < $p/cmdline 2>/dev/null; echo; done");
}
