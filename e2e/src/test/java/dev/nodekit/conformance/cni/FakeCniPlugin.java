package dev.nodekit.conformance.cni;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A CNI plugin with one defect, for the suite's own tests: wraps a real (Go reference) plugin and
 * corrupts one thing in what it answers, or lifts it to 1.1.0 (with STATUS and GC). Run through a launcher script
 * ({@link FakePlugins#java}); self-contained (JDK + jackson) so it starts without the project's
 * classes. Args: {@code MODE REAL_PLUGIN}.
 */
public final class FakeCniPlugin {
    private static final ObjectMapper JSON = new ObjectMapper();

    private FakeCniPlugin() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String real = args[1];
        String cmd = System.getenv().getOrDefault("CNI_COMMAND", "");
        byte[] stdin = System.in.readAllBytes();
        int exit = switch (mode) {
            case "v110", "v110-status-fails", "v110-gc-noop", "v110-gc-all" -> v110(mode, cmd, stdin, real);
            default -> corruptAdd(mode, cmd, stdin, real);
        };
        System.out.flush();
        System.exit(exit);
    }

    /** Runs the real plugin; on a successful ADD rewrites the result as {@code mode} says. */
    private static int corruptAdd(String mode, String cmd, byte[] stdin, String real) throws Exception {
        Run r = run(real, stdin);
        if (!cmd.equals("ADD") || r.exit != 0) {
            System.out.write(r.out);
            return r.exit;
        }
        ObjectNode res = (ObjectNode) JSON.readTree(r.out);
        ArrayNode ips = (ArrayNode) res.get("ips");
        ArrayNode ifaces = (ArrayNode) res.get("interfaces");
        String v = res.path("cniVersion").asText();
        switch (mode) {
            case "drop-interface-index" -> ips.forEach(ip -> ((ObjectNode) ip).remove("interface"));
            case "wrong-result-version" -> res.put("cniVersion", v.equals("0.4.0") ? "1.0.0" : "0.4.0");
            case "flip-ips-version" -> ips.forEach(ip -> {
                if (ip.has("version")) {
                    ((ObjectNode) ip).remove("version");
                } else {
                    ((ObjectNode) ip).put("version", "4");
                }
            });
            case "no-sandbox" -> ifaces.forEach(i -> ((ObjectNode) i).remove("sandbox"));
            case "gateway-outside" -> ips.forEach(ip -> ((ObjectNode) ip).put("gateway", "192.0.2.254"));
            case "wrong-mac" -> ifaces.forEach(i -> {
                if (i.has("sandbox")) {
                    ((ObjectNode) i).put("mac", "02:00:00:00:00:01");
                }
            });
            case "wrong-address" -> ips.forEach(ip -> {
                String a = ip.get("address").asText();
                ((ObjectNode) ip).put("address", a.substring(0, a.lastIndexOf('.')) + ".250/24");
            });
            default -> throw new IllegalArgumentException("unknown mode " + mode);
        }
        System.out.write(JSON.writeValueAsBytes(res));
        return 0;
    }

    /**
     * Makes a 1.0.0 plugin a 1.1.0 one: claims 1.1.0, translates 1.1.0 requests down and results up,
     * answers STATUS, and does GC itself on the host-local dir. The other modes break STATUS or GC.
     */
    private static int v110(String mode, String cmd, byte[] stdin, String real) throws Exception {
        switch (cmd) {
            case "VERSION" -> {
                Run r = run(real, stdin);
                ObjectNode ans = (ObjectNode) JSON.readTree(r.out);
                ((ArrayNode) ans.get("supportedVersions")).add("1.1.0");
                System.out.write(JSON.writeValueAsBytes(ans));
                return r.exit;
            }
            case "STATUS" -> {
                if (mode.equals("v110-status-fails")) {
                    System.out.print("{\"cniVersion\":\"1.1.0\",\"code\":50,\"msg\":\"plugin not available\"}");
                    return 1;
                }
                return 0;
            }
            case "GC" -> {
                return gc(mode, JSON.readTree(stdin));
            }
            default -> {
                JsonNode conf;
                try {
                    conf = JSON.readTree(stdin);
                } catch (IOException e) {
                    Run r = run(real, stdin);
                    System.out.write(r.out);
                    return r.exit;
                }
                boolean up = conf.path("cniVersion").asText().equals("1.1.0");
                if (up) {
                    ((ObjectNode) conf).put("cniVersion", "1.0.0");
                    if (conf.get("prevResult") instanceof ObjectNode prev) {
                        prev.put("cniVersion", "1.0.0");
                    }
                }
                Run r = run(real, JSON.writeValueAsBytes(conf));
                if (up && r.exit == 0 && r.out.length > 0) {
                    ObjectNode res = (ObjectNode) JSON.readTree(r.out);
                    res.put("cniVersion", "1.1.0");
                    System.out.write(JSON.writeValueAsBytes(res));
                } else {
                    System.out.write(r.out);
                }
                return r.exit;
            }
        }
    }

    private static int gc(String mode, JsonNode conf) throws IOException {
        Path dir = Path.of(conf.path("ipam").path("dataDir").asText()).resolve(conf.path("name").asText());
        Set<String> valid = new HashSet<>();
        for (String key : List.of("cni.dev/valid-attachments", "cni.dev/attachments")) {
            for (JsonNode a : conf.path(key)) {
                valid.add(a.path("containerID").asText() + "\r\n" + a.path("ifname").asText());
            }
        }
        if (mode.equals("v110-gc-noop") || !Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                if (isAllocation(p)
                        && (mode.equals("v110-gc-all") || !valid.contains(Files.readString(p).strip()))) {
                    Files.deleteIfExists(p);
                }
            }
        }
        return 0;
    }

    private record Run(int exit, byte[] out) {
    }

    private static Run run(String real, byte[] stdin) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(real).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (var in = p.getOutputStream()) {
            in.write(stdin);
        } catch (IOException e) {
            // the real plugin did not read its stdin (VERSION): fine
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream()) {
            in.transferTo(out);
        }
        return new Run(p.waitFor(), out.toByteArray());
    }

    private static boolean isAllocation(Path p) {
        String n = p.getFileName().toString();
        return !n.equals("lock") && !n.startsWith("last_reserved_ip.");
    }
}
