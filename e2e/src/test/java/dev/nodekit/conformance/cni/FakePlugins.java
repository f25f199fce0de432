package dev.nodekit.conformance.cni;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A temp bin dir for the suite's own tests: the Go reference plugins linked in ({@code bridge},
 * {@code host-local}) next to fakes with one defect each, written as shell scripts wrapping the
 * real bridge, or as launchers of {@link FakeCniPlugin}.
 */
final class FakePlugins {
    static final Path GO = Path.of("/usr/lib/cni");

    private final Path binDir;
    private final Path stateDir;

    FakePlugins(Path dir) throws IOException {
        this.binDir = Files.createDirectories(dir.resolve("bin"));
        this.stateDir = Files.createDirectories(dir.resolve("state"));
        for (String p : List.of("bridge", "host-local")) {
            if (Files.exists(GO.resolve(p)) && !Files.exists(binDir.resolve(p))) {
                Files.createSymbolicLink(binDir.resolve(p), GO.resolve(p));
            }
        }
    }

    Path binDir() {
        return binDir;
    }

    /**
     * A shell fake named {@code name}: {@code body} runs with {@code $REAL} (the Go bridge) and
     * {@code $STATE} (a scratch dir) set; it usually handles one case and {@code exec "$REAL"}s the rest.
     */
    String shell(String name, String body) throws IOException {
        write(name, "#!/bin/sh\nREAL=" + GO.resolve("bridge") + "\nSTATE=" + stateDir + "\n" + body + "\n");
        return name;
    }

    /** A fake that answers VERSION with {@code answer} and passes everything else to the Go bridge. */
    String versionAnswer(String name, String answer) throws IOException {
        return shell(name, "if [ \"$CNI_COMMAND\" = VERSION ]; then cat >/dev/null; printf '%s' '" + answer
                + "'; exit 0; fi\nexec \"$REAL\"");
    }

    /**
     * An IPAM without a lock, in shell so 40 of them start at once: lists the dir, waits, then
     * writes the first free address of the /24 (no O_EXCL), so parallel ADDs get the same address.
     * Reads the suite's compact generated config with sed.
     */
    String racyIpam(String name) throws IOException {
        return shell(name, """
                in=$(cat)
                field() { printf '%s' "$in" | sed -n "s/.*\\"$1\\":\\"\\([^\\"]*\\)\\".*/\\1/p"; }
                v=$(field cniVersion)
                if [ "$CNI_COMMAND" = VERSION ]; then
                  echo '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}'; exit 0
                fi
                dir="$(field dataDir)/$(field name)"; mkdir -p "$dir"
                net=$(field subnet); net=${net%.0/24}
                case "$CNI_COMMAND" in
                ADD)
                  h=2; while [ -e "$dir/$net.$h" ]; do h=$((h+1)); done
                  sleep 0.3
                  printf '%s\r\n%s' "$CNI_CONTAINERID" "$CNI_IFNAME" > "$dir/$net.$h"
                  case "$v" in 1.*) ver='';; *) ver='"version":"4",';; esac
                  printf '{"cniVersion":"%s","ips":[{%s"address":"%s.%s/24","gateway":"%s.1"}]}' "$v" "$ver" "$net" "$h" "$net"
                  ;;
                DEL)
                  for f in "$dir"/*; do
                    [ "$(head -n1 "$f" 2>/dev/null | tr -d '\r')" = "$CNI_CONTAINERID" ] && rm -f "$f"
                  done
                  ;;
                esac
                exit 0""");
    }

    /** A launcher of {@link FakeCniPlugin} in {@code mode} wrapping {@code real} (a Go plugin name). */
    String java(String name, String mode, String real) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        write(name, "#!/bin/sh\nexec '" + java + "' -Xshare:auto -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "
                + "-XX:-UsePerfData -cp '" + classpath() + "' " + FakeCniPlugin.class.getName() + " '" + mode + "' '"
                + GO.resolve(real) + "'\n");
        return name;
    }

    private void write(String name, String script) throws IOException {
        Path f = binDir.resolve(name);
        Files.writeString(f, script);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static String classpath() {
        Set<String> cp = new LinkedHashSet<>();
        for (Class<?> c : List.of(FakeCniPlugin.class, ObjectMapper.class, JsonFactory.class, JsonProperty.class)) {
            try {
                cp.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }
        return String.join(":", cp);
    }
}
