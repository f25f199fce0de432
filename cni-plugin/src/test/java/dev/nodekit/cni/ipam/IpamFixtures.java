package dev.nodekit.cni.ipam;

import java.nio.file.Path;

import dev.nodekit.cni.api.CniArgs;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.NetConf;

/** Configurations for the IPAM tests, built from JSON the way a plugin receives them. */
final class IpamFixtures {
    private IpamFixtures() {
    }

    /** A host-local config of network {@code net1} on {@code dataDir} with the given {@code ipam} members. */
    static HostLocalConfig config(Path dataDir, String ipamMembers) throws CniException {
        return config(dataDir, ipamMembers, "", CniArgs.EMPTY);
    }

    static HostLocalConfig config(Path dataDir, String ipamMembers, String topLevel, CniArgs args) throws CniException {
        String json = "{\"cniVersion\":\"1.0.0\",\"name\":\"net1\",\"type\":\"nodekit-host-local\"" + topLevel
                + ",\"ipam\":{\"type\":\"nodekit-host-local\",\"dataDir\":\"" + dataDir + "\"," + ipamMembers + "}}";
        return HostLocalConfig.from(NetConf.parse(json), args);
    }

    static String ranges(String... subnets) {
        StringBuilder sb = new StringBuilder("\"ranges\":[");
        for (int i = 0; i < subnets.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append("[{\"subnet\":\"").append(subnets[i]).append("\"}]");
        }
        return sb.append(']').toString();
    }
}
