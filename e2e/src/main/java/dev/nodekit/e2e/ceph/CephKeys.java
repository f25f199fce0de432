package dev.nodekit.e2e.ceph;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Generates cephx keys and keyring text in-process: what {@code ceph-authtool --gen-key} does,
 * without a process per key. A key is base64 of: u16 type (1 = AES), u32 seconds, u32 nanoseconds
 * (creation time), u16 secret length (16), the secret; all little-endian.
 */
final class CephKeys {
    private static final SecureRandom RANDOM = new SecureRandom();

    private CephKeys() {
    }

    static String generate() {
        byte[] secret = new byte[16];
        RANDOM.nextBytes(secret);
        Instant now = Instant.now();
        ByteBuffer b = ByteBuffer.allocate(12 + secret.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) 1).putInt((int) now.getEpochSecond()).putInt(now.getNano()).putShort((short) secret.length)
                .put(secret);
        return Base64.getEncoder().encodeToString(b.array());
    }

    /** One keyring section: entity, key and caps per service ({@code mon -> "allow *"}). */
    record Entry(String entity, String key, Map<String, String> caps) {
        Entry {
            caps = new LinkedHashMap<>(caps);
        }

        String render() {
            StringBuilder sb = new StringBuilder();
            sb.append('[').append(entity).append("]\n");
            sb.append("\tkey = ").append(key).append('\n');
            caps.forEach((service, cap) -> sb.append("\tcaps ").append(service).append(" = \"").append(cap).append("\"\n"));
            return sb.toString();
        }
    }

    static String keyring(Entry... entries) {
        StringBuilder sb = new StringBuilder();
        for (Entry e : entries) {
            sb.append(e.render());
        }
        return sb.toString();
    }
}
