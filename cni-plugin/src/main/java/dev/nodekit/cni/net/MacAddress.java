package dev.nodekit.cni.net;

import java.util.Random;

/**
 * Ethernet (EUI-48) addresses as the lower-case {@code aa:bb:cc:dd:ee:ff} text iproute2 prints and CNI
 * results carry.
 */
public final class MacAddress {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private MacAddress() {
    }

    /**
     * Normalises a MAC given as {@code aa:bb:cc:dd:ee:ff} or {@code aa-bb-cc-dd-ee-ff} (any case) to
     * lower case with colons.
     *
     * @throws IllegalArgumentException when {@code text} is not a 48-bit MAC address
     */
    public static String normalize(String text) {
        if (text == null || text.length() != 17) {
            throw new IllegalArgumentException("'" + text + "' is not a MAC address (expected aa:bb:cc:dd:ee:ff)");
        }
        char[] out = new char[17];
        char sep = text.charAt(2);
        for (int i = 0; i < 17; i++) {
            char c = text.charAt(i);
            if (i % 3 == 2) {
                if (c != sep || (sep != ':' && sep != '-')) {
                    throw new IllegalArgumentException("'" + text + "' is not a MAC address (expected aa:bb:cc:dd:ee:ff)");
                }
                out[i] = ':';
            } else {
                int d = Character.digit(c, 16);
                if (d < 0) {
                    throw new IllegalArgumentException("'" + text + "' is not a MAC address (expected aa:bb:cc:dd:ee:ff)");
                }
                out[i] = HEX[d];
            }
        }
        return new String(out);
    }

    /** Whether the address has the multicast (group) bit set: such an address cannot name an interface. */
    public static boolean isMulticast(String normalized) {
        return (Character.digit(normalized.charAt(1), 16) & 1) != 0;
    }

    /**
     * A random unicast, locally administered address (first octet {@code x2}, {@code x6}, {@code xa} or
     * {@code xe}), the kind the kernel gives a veth.
     */
    public static String random(Random random) {
        byte[] b = new byte[6];
        random.nextBytes(b);
        b[0] = (byte) ((b[0] & 0xfe) | 0x02);
        StringBuilder sb = new StringBuilder(17);
        for (int i = 0; i < 6; i++) {
            if (i > 0) {
                sb.append(':');
            }
            sb.append(HEX[(b[i] >> 4) & 0xf]).append(HEX[b[i] & 0xf]);
        }
        return sb.toString();
    }
}
