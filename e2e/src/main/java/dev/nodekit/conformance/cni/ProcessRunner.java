package dev.nodekit.conformance.cni;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a process with exactly the given environment (nothing inherited), stdin bytes and a
 * timeout, capturing stdout and stderr. On timeout the process and its descendants are killed.
 * (Unlike common.exec.CommandRunner it never inherits the JVM's environment: CNI plugins must be
 * judged in the clean environment a runtime gives them.)
 */
interface ProcessRunner {
    /** Runs {@code argv}; a process that cannot start is an {@link IOException}. */
    ExecResult run(List<String> argv, Map<String, String> env, byte[] stdin, Duration timeout)
            throws IOException, InterruptedException;

    /** The real one. */
    ProcessRunner LOCAL = new Local();

    /** Real processes; two reader threads per run so neither pipe can fill up and stall the child. */
    final class Local implements ProcessRunner {
        private static final int MAX_CAPTURE = 1 << 20;
        private static final AtomicInteger THREADS = new AtomicInteger();
        private static final ExecutorService IO = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "cni-exec-io-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });

        @Override
        public ExecResult run(List<String> argv, Map<String, String> env, byte[] stdin, Duration timeout)
                throws IOException, InterruptedException {
            ProcessBuilder pb = new ProcessBuilder(argv);
            pb.environment().clear();
            pb.environment().putAll(env);
            long start = System.nanoTime();
            Process p = pb.start();
            Capture out = new Capture(p.getInputStream());
            Capture err = new Capture(p.getErrorStream());
            Future<?> outF = IO.submit(out);
            Future<?> errF = IO.submit(err);
            IO.submit(() -> {
                try (OutputStream in = p.getOutputStream()) {
                    in.write(stdin);
                } catch (IOException e) {
                    // The child closed stdin without reading it all (or exited): its business.
                }
            });
            boolean finished;
            try {
                finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                killTree(p);
                throw e;
            }
            if (!finished) {
                killTree(p);
                p.waitFor(5, TimeUnit.SECONDS);
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            // A grandchild may keep a pipe open after the child exited: wait a little, then close it.
            drain(outF, p.getInputStream());
            drain(errF, p.getErrorStream());
            return new ExecResult(finished ? p.exitValue() : -1, out.text(), err.text(), took, !finished);
        }

        private static void killTree(Process p) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }

        private static void drain(Future<?> f, InputStream s) throws InterruptedException {
            try {
                f.get(2, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing only to unblock the reader
                }
            } catch (ExecutionException e) {
                // the reader stopped on an I/O error; what it read so far is kept
            }
        }

        /** Reads a stream to the end, keeping at most {@link #MAX_CAPTURE} bytes. */
        private static final class Capture implements Runnable {
            private final InputStream in;
            private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

            Capture(InputStream in) {
                this.in = in;
            }

            @Override
            public void run() {
                byte[] b = new byte[8192];
                try {
                    int n;
                    while ((n = in.read(b)) > 0) {
                        synchronized (buf) {
                            if (buf.size() < MAX_CAPTURE) {
                                buf.write(b, 0, Math.min(n, MAX_CAPTURE - buf.size()));
                            }
                        }
                    }
                } catch (IOException e) {
                    // stream closed under us (timeout or drain): keep what was read
                }
            }

            String text() {
                synchronized (buf) {
                    return buf.toString(StandardCharsets.UTF_8);
                }
            }
        }
    }
}
