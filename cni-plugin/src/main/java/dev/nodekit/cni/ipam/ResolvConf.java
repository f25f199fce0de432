package dev.nodekit.cni.ipam;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.Dns;

/**
 * host-local's {@code resolvConf}: a resolv.conf read into the result's {@code dns}, line by line as
 * the Go plugin does: {@code nameserver} (one each), {@code domain} (the last wins), {@code search}
 * and {@code options} (all words); comments ({@code #}, {@code ;}) and unknown keywords skipped.
 */
public final class ResolvConf {
    private ResolvConf() {
    }

    /**
     * Reads {@code file}.
     *
     * @throws CniException code 999 when it cannot be read (as host-local fails ADD)
     */
    public static Dns read(Path file) throws CniException {
        try {
            return parse(new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new CniException(CniError.INTERNAL, "cannot read resolvConf " + file + ": " + e.getMessage());
        }
    }

    /** Parses resolv.conf text. */
    public static Dns parse(String text) {
        List<String> ns = new ArrayList<>();
        String domain = null;
        List<String> search = new ArrayList<>();
        List<String> options = new ArrayList<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.charAt(0) == '#' || line.charAt(0) == ';') {
                continue;
            }
            String[] f = line.split("\\s+");
            if (f.length < 2) {
                continue;
            }
            switch (f[0]) {
                case "nameserver":
                    ns.add(f[1]);
                    break;
                case "domain":
                    domain = f[1];
                    break;
                case "search":
                    for (int i = 1; i < f.length; i++) {
                        search.add(f[i]);
                    }
                    break;
                case "options":
                    for (int i = 1; i < f.length; i++) {
                        options.add(f[i]);
                    }
                    break;
                default:
                    break;
            }
        }
        return new Dns(ns, Optional.ofNullable(domain), search, options, Map.of());
    }
}
