package dev.nodekit.common.node;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import oshi.SystemInfo;
import oshi.hardware.HardwareAbstractionLayer;
import oshi.hardware.NetworkIF;
import oshi.software.os.OSFileStore;
import oshi.software.os.OperatingSystem;

/** Reads {@link NodeFacts} through OSHI; the only class of the package that touches OSHI. */
final class OshiCollector {
    private static final Logger log = LoggerFactory.getLogger(OshiCollector.class);

    private OshiCollector() {
    }

    /** OSHI's entry point, built on first use (this is where JNA loads). */
    private static final class Oshi {
        static final SystemInfo INFO = new SystemInfo();
    }

    static NodeFacts collect() {
        long start = System.nanoTime();
        SystemInfo si = Oshi.INFO;
        HardwareAbstractionLayer hal = si.getHardware();
        OperatingSystem os = si.getOperatingSystem();

        List<NodeFacts.Filesystem> filesystems = new ArrayList<>();
        // localOnly: statvfs on a dead network filesystem blocks; network mounts are not node facts anyway.
        for (OSFileStore fs : os.getFileSystem().getFileStores(true)) {
            filesystems.add(new NodeFacts.Filesystem(fs.getMount(), fs.getType(), fs.getVolume(), fs.getTotalSpace(),
                    fs.getUsableSpace()));
        }
        List<NodeFacts.NetworkInterface> interfaces = new ArrayList<>();
        for (NetworkIF n : hal.getNetworkIFs(true)) {
            interfaces.add(new NodeFacts.NetworkInterface(n.getName(), mac(n.getMacaddr()),
                    cidrs(n.getIPv4addr(), n.getSubnetMasks()), cidrs(n.getIPv6addr(), n.getPrefixLengths()),
                    isUp(n), String.valueOf(n.getIfOperStatus())));
        }
        String kernel = os.getVersionInfo().getBuildNumber();
        if (kernel == null || kernel.isBlank()) {
            kernel = System.getProperty("os.version", "");
        }
        NodeFacts facts = new NodeFacts(os.getNetworkParams().getHostName(),
                os.getFamily() + " " + os.getVersionInfo().getVersion(), kernel,
                System.getProperty("os.arch", ""), hal.getProcessor().getLogicalProcessorCount(),
                hal.getMemory().getTotal(), filesystems, interfaces);
        log.atDebug().addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000)
                .addKeyValue("filesystems", filesystems.size()).addKeyValue("interfaces", interfaces.size())
                .log("collected node facts");
        return facts;
    }

    private static boolean isUp(NetworkIF n) {
        try {
            return n.queryNetworkInterface().isUp();
        } catch (Exception e) {
            return n.getIfOperStatus() == NetworkIF.IfOperStatus.UP;
        }
    }

    /** OSHI says "unknown" (or all zeros, for loopback) when there is no hardware address. */
    static String mac(String oshiMac) {
        if (oshiMac == null || oshiMac.isBlank() || oshiMac.equalsIgnoreCase("unknown")
                || oshiMac.replace(":", "").chars().allMatch(c -> c == '0')) {
            return "";
        }
        return oshiMac.toLowerCase(Locale.ROOT);
    }

    /**
     * RFC 5952 text for an IPv6 address ({@code fd00:0:0:0:0:0:0:2} becomes {@code fd00::2}): Java
     * and OSHI print all eight groups, which nobody searches logs for. Input that is not eight
     * hex groups is returned unchanged.
     */
    static String compressIpv6(String address) {
        String addr = address;
        int pct = addr.indexOf('%');
        if (pct >= 0) {
            addr = addr.substring(0, pct);
        }
        String[] groups = addr.split(":", -1);
        if (groups.length != 8) {
            return address;
        }
        int[] v = new int[8];
        try {
            for (int i = 0; i < 8; i++) {
                v[i] = Integer.parseInt(groups[i], 16);
            }
        } catch (NumberFormatException e) {
            return address;
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; i++) {
            int j = i;
            while (j < 8 && v[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = Math.max(i, j);
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(v[i]));
        }
        return sb.toString();
    }

    /** {@code addr/prefix} pairs; OSHI gives prefix lengths in a parallel array. */
    static List<String> cidrs(String[] addresses, Short[] prefixes) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < addresses.length; i++) {
            Short p = prefixes != null && i < prefixes.length ? prefixes[i] : null;
            String a = addresses[i].contains(":") ? compressIpv6(addresses[i]) : addresses[i];
            out.add(p == null || p < 0 ? a : a + "/" + p);
        }
        return out;
    }
}
