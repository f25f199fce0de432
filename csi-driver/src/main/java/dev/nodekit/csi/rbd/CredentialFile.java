package dev.nodekit.csi.rbd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import dev.nodekit.common.config.ConfigLoader;
import dev.nodekit.csi.rbd.ceph.CephCredentials;

/**
 * Reads a cluster's fallback credential: a directory with files {@code userID} and {@code userKey}
 * (how Kubernetes mounts a Secret), or a YAML/JSON file with those keys. Read on every new
 * session, so a rotated Secret is picked up. Messages never quote the key.
 */
final class CredentialFile {
    static final String USER_ID = "userID";
    static final String USER_KEY = "userKey";

    private CredentialFile() {
    }

    /** The credential in {@code path}; IOException naming the path and what is wrong (never the key). */
    static CephCredentials read(Path path) throws IOException {
        String user;
        String key;
        if (Files.isDirectory(path)) {
            user = readFile(path.resolve(USER_ID));
            key = readFile(path.resolve(USER_KEY));
        } else {
            JsonNode n;
            try {
                n = ConfigLoader.yamlMapper().readTree(Files.readString(path, StandardCharsets.UTF_8));
            } catch (IOException e) {
                // Jackson's message may quote the text around the error: do not pass it on.
                throw new IOException("credential file " + path + " is not a YAML/JSON map with " + USER_ID + " and "
                        + USER_KEY);
            }
            if (n == null || !n.isObject() || !n.path(USER_ID).isTextual() || !n.path(USER_KEY).isTextual()) {
                throw new IOException("credential file " + path + " must hold " + USER_ID + " and " + USER_KEY
                        + " (strings)");
            }
            user = n.get(USER_ID).asText();
            key = n.get(USER_KEY).asText();
        }
        try {
            return new CephCredentials(user.strip(), key);
        } catch (IllegalArgumentException e) {
            throw new IOException("credential file " + path + ": " + e.getMessage());
        }
    }

    /** The CSI secrets map of a credential: what a request would carry. */
    static Map<String, String> asSecrets(CephCredentials c) {
        return Map.of(USER_ID, c.userId(), USER_KEY, c.key());
    }

    private static String readFile(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("credential directory " + file.getParent() + " has no file " + file.getFileName());
        }
        return Files.readString(file, StandardCharsets.UTF_8);
    }
}
