package dev.nodekit.crishim.builtin;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.google.protobuf.Message;

import dev.nodekit.common.config.ConfigException;
import dev.nodekit.crishim.api.CallOutcome;
import dev.nodekit.crishim.api.CriCall;
import dev.nodekit.crishim.api.CriInterceptor;
import dev.nodekit.crishim.api.CriInterceptorProvider;
import dev.nodekit.crishim.api.CriMethod;
import dev.nodekit.crishim.api.CriMethods;
import dev.nodekit.crishim.api.Hooks;
import dev.nodekit.crishim.api.InterceptorContext;
import dev.nodekit.spec.cri.v1.AttachRequest;
import dev.nodekit.spec.cri.v1.CheckpointContainerRequest;
import dev.nodekit.spec.cri.v1.ContainerConfig;
import dev.nodekit.spec.cri.v1.CreateContainerRequest;
import dev.nodekit.spec.cri.v1.CreateContainerResponse;
import dev.nodekit.spec.cri.v1.ExecRequest;
import dev.nodekit.spec.cri.v1.ExecSyncRequest;
import dev.nodekit.spec.cri.v1.ExecSyncResponse;
import dev.nodekit.spec.cri.v1.KeyValue;
import dev.nodekit.spec.cri.v1.PodSandboxMetadata;
import dev.nodekit.spec.cri.v1.PortForwardRequest;
import dev.nodekit.spec.cri.v1.PullImageRequest;
import dev.nodekit.spec.cri.v1.PullImageResponse;
import dev.nodekit.spec.cri.v1.RemoveContainerRequest;
import dev.nodekit.spec.cri.v1.RemoveImageRequest;
import dev.nodekit.spec.cri.v1.RemovePodSandboxRequest;
import dev.nodekit.spec.cri.v1.RunPodSandboxRequest;
import dev.nodekit.spec.cri.v1.RunPodSandboxResponse;
import dev.nodekit.spec.cri.v1.StartContainerRequest;
import dev.nodekit.spec.cri.v1.StopContainerRequest;
import dev.nodekit.spec.cri.v1.StopPodSandboxRequest;
import dev.nodekit.spec.cri.v1.UpdateContainerResourcesRequest;
import dev.nodekit.spec.cri.v1.UpdatePodSandboxResourcesRequest;

/**
 * The {@code audit} interceptor: one JSON line per lifecycle call, after the call ended, with what
 * it was about and how it went:
 * <pre>{@code
 * {"time":"2026-01-05T10:00:00.123Z","method":"CreateContainer","code":"OK","elapsed_ms":10.4,
 *  "origin":"upstream","upstream":"default","pod_sandbox_id":"3f..","namespace":"default","pod":"web",
 *  "pod_uid":"..","container":"app","container_id":"9c..","image":"nginx:1.27",
 *  "env":{"DB_PASSWORD":"***","MODE":"prod"}}
 * }</pre>
 * Fields are present when known. Calls that name only a container id (StartContainer...) carry the
 * pod and image the shim saw when the container was created (kept for the last
 * {@value #CACHE_ENTRIES} containers; unknown after a restart). Environment values whose name
 * matches one of {@code secretEnvNames}, and any environment value or exec argument containing a
 * match of {@code secretValues}, are written as {@code ***}. Image pull credentials are never read.
 *
 * <p>Settings: {@code output} ({@code stdout} (default), {@code stderr} or an absolute file path,
 * appended to), {@code methods} (RPC names; default: the lifecycle calls of {@link #DEFAULT_METHODS}),
 * {@code includeEnv} (default true), {@code secretEnvNames} and {@code secretValues} (regular
 * expressions, added to the defaults below: a config can widen redaction, never narrow it). Audit runs after the answer is sent, so it adds no latency; a line
 * that cannot be written is logged and lost (fail-open by default).
 */
public final class AuditInterceptor implements CriInterceptor {
    /** The calls audited unless {@code methods} says otherwise. */
    public static final List<String> DEFAULT_METHODS = List.of("RunPodSandbox", "StopPodSandbox", "RemovePodSandbox",
            "UpdatePodSandboxResources", "CreateContainer", "StartContainer", "StopContainer", "RemoveContainer",
            "UpdateContainerResources", "CheckpointContainer", "ExecSync", "Exec", "Attach", "PortForward",
            "PullImage", "RemoveImage");
    /** Environment variable names whose values are secrets unless configured otherwise (case-insensitive). */
    public static final List<String> DEFAULT_SECRET_ENV_NAMES = List.of(
            "(?i).*(passw(or)?d|secret|token|api[_-]?key|private[_-]?key|credential|auth).*");
    /** Values that are secrets wherever they appear unless configured otherwise. */
    public static final List<String> DEFAULT_SECRET_VALUES = List.of(
            "AKIA[0-9A-Z]{16}",                                   // AWS access key id
            "-----BEGIN [A-Z ]*PRIVATE KEY-----",                 // PEM private keys
            "eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.",        // JWTs (service account tokens)
            "(?i)(password|passwd|token|secret)=\\S+");           // key=value on command lines
    static final int CACHE_ENTRIES = 4096;
    static final String MASK = "***";
    private static final JsonFactory JSON = new JsonFactory();

    private final Settings settings;
    private final List<Pattern> secretNames;
    private final List<Pattern> secretValues;
    private final Sink sink;
    private final Clock clock;
    private final Lru<String, PodRef> pods = new Lru<>(CACHE_ENTRIES);
    private final Lru<String, ContainerRef> containers = new Lru<>(CACHE_ENTRIES);

    AuditInterceptor(Settings settings, Sink sink, Clock clock) {
        this.settings = settings;
        this.secretNames = settings.secretEnvNames().stream().map(Pattern::compile).toList();
        this.secretValues = settings.secretValues().stream().map(Pattern::compile).toList();
        this.sink = sink;
        this.clock = clock;
    }

    @Override
    public void register(Hooks hooks) {
        for (String name : settings.methods()) {
            CriMethod<?, ?> m = CriMethods.all().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
            registerOne(hooks, m);
        }
    }

    private <Q extends Message, R extends Message> void registerOne(Hooks hooks, CriMethod<Q, R> m) {
        hooks.completed(m, (call, req, resp, outcome) -> sink.write(line(call, req, resp, outcome)));
        // Completion hooks run after the answer is sent, so kubelet's next call (StartContainer right
        // after CreateContainer) can be audited first: remember new ids before the answer goes out.
        if (m.equals(CriMethods.RUN_POD_SANDBOX)) {
            hooks.after(CriMethods.RUN_POD_SANDBOX, (call, req, resp) -> {
                if (!resp.getPodSandboxId().isEmpty()) {
                    pods.put(resp.getPodSandboxId(), PodRef.of(req.getConfig().getMetadata()));
                }
                return resp;
            });
        } else if (m.equals(CriMethods.CREATE_CONTAINER)) {
            hooks.after(CriMethods.CREATE_CONTAINER, (call, req, resp) -> {
                if (!resp.getContainerId().isEmpty()) {
                    ContainerConfig c = req.getConfig();
                    containers.put(resp.getContainerId(), new ContainerRef(c.getMetadata().getName(),
                            c.getImage().getImage(), req.getPodSandboxId(), PodRef.of(req.getSandboxConfig().getMetadata())));
                }
                return resp;
            });
        }
    }

    /** The audit line of one call (no newline). */
    String line(CriCall call, Message req, Optional<? extends Message> resp, CallOutcome outcome) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("time", clock.instant().toString());
        f.put("method", outcome.shortMethod());
        f.put("code", outcome.code().name());
        if (!outcome.description().isEmpty()) {
            f.put("message", cut(outcome.description(), 512));
        }
        f.put("elapsed_ms", Math.round(outcome.elapsed().toNanos() / 10_000.0) / 100.0);
        f.put("origin", outcome.origin().name().toLowerCase(java.util.Locale.ROOT));
        if (!outcome.upstreams().isEmpty()) {
            f.put("upstream", String.join(",", outcome.upstreams()));
        }
        describe(req, resp.orElse(null), f);
        return toJson(f);
    }

    private void describe(Message req, Message resp, Map<String, Object> f) {
        if (req instanceof RunPodSandboxRequest r) {
            PodRef pod = PodRef.of(r.getConfig().getMetadata());
            String id = resp instanceof RunPodSandboxResponse rr ? rr.getPodSandboxId() : "";
            putPod(f, id, pod);
            putIfSet(f, "runtime_handler", r.getRuntimeHandler());
            if (!id.isEmpty()) {
                pods.put(id, pod);
            }
        } else if (req instanceof CreateContainerRequest r) {
            PodRef pod = PodRef.of(r.getSandboxConfig().getMetadata());
            putPod(f, r.getPodSandboxId(), pod);
            ContainerConfig c = r.getConfig();
            String id = resp instanceof CreateContainerResponse cr ? cr.getContainerId() : "";
            putIfSet(f, "container", c.getMetadata().getName());
            putIfSet(f, "container_id", id);
            putIfSet(f, "image", c.getImage().getImage());
            if (c.getLinux().getSecurityContext().getPrivileged()) {
                f.put("privileged", true);
            }
            if (!c.getCommandList().isEmpty() || !c.getArgsList().isEmpty()) {
                List<String> cmd = new java.util.ArrayList<>(c.getCommandList());
                cmd.addAll(c.getArgsList());
                f.put("command", redactArgs(cmd));
            }
            if (settings.includeEnv() && c.getEnvsCount() > 0) {
                Map<String, String> env = new LinkedHashMap<>();
                for (KeyValue kv : c.getEnvsList()) {
                    env.put(kv.getKey(), redactEnv(kv.getKey(), kv.getValue().toStringUtf8()));
                }
                f.put("env", env);
            }
            if (!id.isEmpty()) {
                containers.put(id, new ContainerRef(c.getMetadata().getName(), c.getImage().getImage(),
                        r.getPodSandboxId(), pod));
            }
        } else if (req instanceof StopPodSandboxRequest r) {
            putPod(f, r.getPodSandboxId(), pods.get(r.getPodSandboxId()));
        } else if (req instanceof RemovePodSandboxRequest r) {
            putPod(f, r.getPodSandboxId(), pods.get(r.getPodSandboxId()));
            pods.remove(r.getPodSandboxId());
        } else if (req instanceof UpdatePodSandboxResourcesRequest r) {
            putPod(f, r.getPodSandboxId(), pods.get(r.getPodSandboxId()));
        } else if (req instanceof PortForwardRequest r) {
            putPod(f, r.getPodSandboxId(), pods.get(r.getPodSandboxId()));
            f.put("ports", r.getPortList());
        } else if (req instanceof StartContainerRequest r) {
            putContainer(f, r.getContainerId());
        } else if (req instanceof StopContainerRequest r) {
            putContainer(f, r.getContainerId());
            f.put("timeout_s", r.getTimeout());
        } else if (req instanceof RemoveContainerRequest r) {
            putContainer(f, r.getContainerId());
            containers.remove(r.getContainerId());
        } else if (req instanceof UpdateContainerResourcesRequest r) {
            putContainer(f, r.getContainerId());
        } else if (req instanceof CheckpointContainerRequest r) {
            putContainer(f, r.getContainerId());
        } else if (req instanceof ExecSyncRequest r) {
            putContainer(f, r.getContainerId());
            f.put("command", redactArgs(r.getCmdList()));
            if (resp instanceof ExecSyncResponse er) {
                f.put("exit_code", er.getExitCode());
            }
        } else if (req instanceof ExecRequest r) {
            putContainer(f, r.getContainerId());
            f.put("command", redactArgs(r.getCmdList()));
            f.put("tty", r.getTty());
        } else if (req instanceof AttachRequest r) {
            putContainer(f, r.getContainerId());
        } else if (req instanceof PullImageRequest r) {
            f.put("image", r.getImage().getImage());
            if (resp instanceof PullImageResponse pr) {
                putIfSet(f, "image_ref", pr.getImageRef());
            }
        } else if (req instanceof RemoveImageRequest r) {
            f.put("image", r.getImage().getImage());
        }
    }

    private void putContainer(Map<String, Object> f, String id) {
        ContainerRef c = containers.get(id);
        if (c != null) {
            putPod(f, c.podId(), c.pod());
            putIfSet(f, "container", c.name());
        }
        putIfSet(f, "container_id", id);
        if (c != null) {
            putIfSet(f, "image", c.image());
        }
    }

    private static void putPod(Map<String, Object> f, String id, PodRef pod) {
        putIfSet(f, "pod_sandbox_id", id);
        if (pod != null) {
            putIfSet(f, "namespace", pod.namespace());
            putIfSet(f, "pod", pod.name());
            putIfSet(f, "pod_uid", pod.uid());
        }
    }

    private static void putIfSet(Map<String, Object> f, String key, String value) {
        if (value != null && !value.isEmpty()) {
            f.put(key, value);
        }
    }

    String redactEnv(String name, String value) {
        for (Pattern p : secretNames) {
            if (p.matcher(name).matches()) {
                return MASK;
            }
        }
        return redactValue(value);
    }

    String redactValue(String value) {
        for (Pattern p : secretValues) {
            if (p.matcher(value).find()) {
                return MASK;
            }
        }
        return value;
    }

    private List<String> redactArgs(List<String> args) {
        return args.stream().map(this::redactValue).toList();
    }

    private static String cut(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "...";
    }

    private static String toJson(Map<String, Object> fields) {
        StringWriter w = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(w)) {
            writeValue(g, fields);
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to memory failed", e);
        }
        return w.toString();
    }

    @SuppressWarnings("unchecked")
    private static void writeValue(JsonGenerator g, Object v) throws IOException {
        if (v instanceof Map<?, ?> m) {
            g.writeStartObject();
            for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
                g.writeFieldName(e.getKey());
                writeValue(g, e.getValue());
            }
            g.writeEndObject();
        } else if (v instanceof List<?> l) {
            g.writeStartArray();
            for (Object o : l) {
                writeValue(g, o);
            }
            g.writeEndArray();
        } else if (v instanceof Boolean b) {
            g.writeBoolean(b);
        } else if (v instanceof Integer i) {
            g.writeNumber(i);
        } else if (v instanceof Long l) {
            g.writeNumber(l);
        } else if (v instanceof Double d) {
            g.writeNumber(d);
        } else {
            g.writeString(String.valueOf(v));
        }
    }

    @Override
    public void close() {
        sink.close();
    }

    /** Who a pod is. */
    record PodRef(String name, String namespace, String uid) {
        static PodRef of(PodSandboxMetadata m) {
            return new PodRef(m.getName(), m.getNamespace(), m.getUid());
        }
    }

    /** What the shim saw of a container when it was created. */
    record ContainerRef(String name, String image, String podId, PodRef pod) {
    }

    /** A small synchronized LRU map. */
    static final class Lru<K, V> {
        private final LinkedHashMap<K, V> map;

        Lru(int max) {
            this.map = new LinkedHashMap<>(64, 0.75f, true) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                    return size() > max;
                }
            };
        }

        synchronized V get(K k) {
            return map.get(k);
        }

        synchronized void put(K k, V v) {
            map.put(k, v);
        }

        synchronized void remove(K k) {
            map.remove(k);
        }
    }

    /** Where audit lines go: one line per write, flushed. */
    interface Sink extends AutoCloseable {
        void write(String line);

        @Override
        void close();

        /** {@code stdout}, {@code stderr} or a file appended to. */
        static Sink open(String output) throws IOException {
            if (output.equals("stdout")) {
                return stream(System.out, false);
            }
            if (output.equals("stderr")) {
                return stream(System.err, false);
            }
            Path p = Path.of(output);
            if (p.getParent() != null) {
                Files.createDirectories(p.getParent());
            }
            return stream(new FileOutputStream(p.toFile(), true), true);
        }

        private static Sink stream(OutputStream out, boolean owned) {
            PrintStream ps = out instanceof PrintStream s ? s : new PrintStream(out, false, StandardCharsets.UTF_8);
            return new Sink() {
                @Override
                public void write(String line) {
                    byte[] b = (line + "\n").getBytes(StandardCharsets.UTF_8);
                    synchronized (this) {
                        ps.write(b, 0, b.length);
                        ps.flush();
                    }
                    if (ps.checkError()) {
                        throw new UncheckedIOException(new IOException("audit output failed"));
                    }
                }

                @Override
                public void close() {
                    if (owned) {
                        ps.close();
                    } else {
                        ps.flush();
                    }
                }
            };
        }
    }

    /**
     * Settings of the audit interceptor.
     *
     * @param output         {@code stdout}, {@code stderr}, or an absolute file path
     * @param methods        RPC names to audit
     * @param includeEnv     whether CreateContainer lines list the (redacted) environment
     * @param secretEnvNames regular expressions over variable names (whole-name match), besides the defaults
     * @param secretValues   regular expressions found anywhere in a value or argument, besides the defaults
     */
    record Settings(String output, List<String> methods, Boolean includeEnv, List<String> secretEnvNames,
            List<String> secretValues) {
        Settings {
            output = output == null ? "stdout" : output;
            if (!output.equals("stdout") && !output.equals("stderr") && !Path.of(output).isAbsolute()) {
                throw new IllegalArgumentException("output: '" + output + "' must be stdout, stderr or an absolute path");
            }
            methods = methods == null ? DEFAULT_METHODS : List.copyOf(methods);
            Set<String> known = CriMethods.all().stream().map(CriMethod::name)
                    .collect(java.util.stream.Collectors.toSet());
            for (String m : methods) {
                if (!known.contains(m)) {
                    throw new IllegalArgumentException("methods: '" + m + "' is not a CRI v1 RPC");
                }
            }
            includeEnv = includeEnv == null || includeEnv;
            secretEnvNames = plusDefaults(DEFAULT_SECRET_ENV_NAMES, secretEnvNames);
            secretValues = plusDefaults(DEFAULT_SECRET_VALUES, secretValues);
            for (String p : secretEnvNames) {
                compile(p, "secretEnvNames");
            }
            for (String p : secretValues) {
                compile(p, "secretValues");
            }
        }

        private static List<String> plusDefaults(List<String> defaults, List<String> extra) {
            List<String> all = new java.util.ArrayList<>(defaults);
            if (extra != null) {
                all.addAll(extra);
            }
            return List.copyOf(all);
        }

        private static void compile(String p, String field) {
            try {
                Pattern.compile(p);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException(field + ": '" + p + "' is not a regular expression: "
                        + e.getDescription());
            }
        }
    }

    /** Makes {@code audit} interceptors. */
    public static final class Provider implements CriInterceptorProvider {
        @Override
        public String type() {
            return "audit";
        }

        @Override
        public CriInterceptor create(InterceptorContext context) throws ConfigException {
            Settings s = context.settings(Settings.class);
            try {
                return new AuditInterceptor(s, Sink.open(s.output()), context.clock());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open the audit output " + s.output() + ": " + e.getMessage(), e);
            }
        }
    }
}
