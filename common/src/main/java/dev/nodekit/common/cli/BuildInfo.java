package dev.nodekit.common.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * What this build is: the project version (from the build) and the git commit (passed by the
 * launcher as {@code -Dnodekit.commit}, "unknown" otherwise). Used by {@code nodekit version},
 * GetPluginInfo's vendor_version and the bench records.
 */
public record BuildInfo(String version, String commit) {
    private static final BuildInfo CURRENT = load();

    /** The build of the running code. */
    public static BuildInfo current() {
        return CURRENT;
    }

    /** {@code 0.1.0-SNAPSHOT+abc1234}, or just the version when the commit is unknown. */
    public String versionWithCommit() {
        return "unknown".equals(commit) ? version : version + "+" + commit;
    }

    private static BuildInfo load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // fall through to the defaults below: a version string is never worth a failed start
        }
        String version = p.getProperty("version", "0.0.0-dev");
        if (version.startsWith("${")) {
            version = "0.0.0-dev";
        }
        String commit = System.getProperty("nodekit.commit", "");
        return new BuildInfo(version, commit.isBlank() ? "unknown" : commit);
    }
}
