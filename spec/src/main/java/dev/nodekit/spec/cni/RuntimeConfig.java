package dev.nodekit.spec.cni;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

/**
 * {@code runtimeConfig}: the capability arguments the runtime passes to a plugin that declared the
 * matching {@code capabilities} (CONVENTIONS.md). Known capabilities are typed; any other key stays in
 * {@link #extra()}.
 *
 * @param portMappings   {@code portMappings}: host ports to forward (portmap; Kubernetes hostPort)
 * @param ipRanges       {@code ipRanges}: range sets that replace host-local's {@code ranges}
 * @param ips            {@code ips}: requested addresses, each an IP or a CIDR ({@code "10.0.0.1/24"})
 * @param mac            {@code mac}: requested hardware address
 * @param bandwidth      {@code bandwidth}: traffic shaping limits
 * @param dns            {@code dns}: pod DNS settings
 * @param aliases        {@code aliases}: names for the container on the network
 * @param cgroupPath     {@code cgroupPath}: the pod's cgroup
 * @param deviceID       {@code deviceID}: a device (e.g. a PCI address) allocated to the pod
 * @param infinibandGUID {@code infinibandGUID}: the GUID for an InfiniBand interface
 * @param podAnnotations {@code io.kubernetes.cri.pod-annotations}: the pod's annotations (containerd)
 * @param extra          other capabilities, kept as read
 */
@JsonSerialize(using = DatabindSerializer.class)
@JsonDeserialize(using = DatabindDeserializer.class)
public record RuntimeConfig(List<PortMapping> portMappings, List<List<IpRange>> ipRanges, List<String> ips,
        Optional<String> mac, Optional<Bandwidth> bandwidth, Optional<RuntimeDns> dns, List<String> aliases,
        Optional<String> cgroupPath, Optional<String> deviceID, Optional<String> infinibandGUID,
        Map<String, String> podAnnotations, Map<String, Object> extra) implements CniJson {

    /** The key containerd uses for {@link #podAnnotations()}. */
    public static final String POD_ANNOTATIONS_KEY = "io.kubernetes.cri.pod-annotations";

    private static final String[] KNOWN = {"portMappings", "ipRanges", "ips", "mac", "bandwidth", "dns", "aliases",
        "cgroupPath", "deviceID", "infinibandGUID", POD_ANNOTATIONS_KEY};

    public RuntimeConfig {
        portMappings = Check.list(portMappings, "portMappings");
        ipRanges = Check.rangeSets(ipRanges, "ipRanges");
        ips = Check.list(ips, "ips");
        for (int i = 0; i < ips.size(); i++) {
            String ip = ips.get(i);
            if (Ip.family(ip) == 0 && Ip.cidrFamily(ip) == 0) {
                throw Check.invalid("ips[" + i + "]", "'" + ip + "' is not an IP address or CIDR");
            }
        }
        mac = Check.optional(mac);
        if (mac.isPresent() && !Ip.isMac(mac.get())) {
            throw Check.invalid("mac", "'" + mac.get() + "' is not a MAC address");
        }
        bandwidth = Check.optional(bandwidth);
        dns = Check.optional(dns);
        aliases = Check.list(aliases, "aliases");
        cgroupPath = Check.optional(cgroupPath);
        deviceID = Check.optional(deviceID);
        infinibandGUID = Check.optional(infinibandGUID);
        podAnnotations = Check.map(podAnnotations, POD_ANNOTATIONS_KEY);
        extra = Check.extra(extra, KNOWN);
    }

    /** No capability set. */
    public static RuntimeConfig empty() {
        return new RuntimeConfig(List.of(), List.of(), List.of(), Optional.empty(), Optional.empty(), Optional.empty(),
                List.of(), Optional.empty(), Optional.empty(), Optional.empty(), Map.of(), Map.of());
    }

    /** This runtime config with {@code portMappings} replaced. */
    public RuntimeConfig withPortMappings(List<PortMapping> portMappings) {
        return new RuntimeConfig(portMappings, ipRanges, ips, mac, bandwidth, dns, aliases, cgroupPath, deviceID,
                infinibandGUID, podAnnotations, extra);
    }

    /** This runtime config with {@code ips} replaced. */
    public RuntimeConfig withIps(List<String> ips) {
        return new RuntimeConfig(portMappings, ipRanges, ips, mac, bandwidth, dns, aliases, cgroupPath, deviceID,
                infinibandGUID, podAnnotations, extra);
    }

    /** This runtime config with {@code mac} set. */
    public RuntimeConfig withMac(String mac) {
        return new RuntimeConfig(portMappings, ipRanges, ips, Optional.of(mac), bandwidth, dns, aliases, cgroupPath,
                deviceID, infinibandGUID, podAnnotations, extra);
    }

    static RuntimeConfig read(JsonIn in) throws IOException {
        in.beginObject("a runtimeConfig object");
        List<PortMapping> portMappings = null;
        List<List<IpRange>> ipRanges = null;
        List<String> ips = null;
        String mac = null;
        Bandwidth bandwidth = null;
        RuntimeDns dns = null;
        List<String> aliases = null;
        String cgroupPath = null;
        String deviceID = null;
        String guid = null;
        Map<String, String> annotations = null;
        Map<String, Object> extra = null;
        for (String f = in.nextField(); f != null; f = in.nextField()) {
            switch (f) {
                case "portMappings":
                    portMappings = PortMapping.readList(in, f);
                    break;
                case "ipRanges":
                    ipRanges = IpRange.readRangeSets(in, f);
                    break;
                case "ips":
                    ips = in.stringList(f);
                    break;
                case "mac":
                    mac = in.string(f);
                    break;
                case "bandwidth":
                    if (!in.isNull()) {
                        in.enter(f);
                        bandwidth = Bandwidth.read(in);
                        in.leave();
                    }
                    break;
                case "dns":
                    if (!in.isNull()) {
                        in.enter(f);
                        dns = RuntimeDns.read(in);
                        in.leave();
                    }
                    break;
                case "aliases":
                    aliases = in.stringList(f);
                    break;
                case "cgroupPath":
                    cgroupPath = in.string(f);
                    break;
                case "deviceID":
                    deviceID = in.string(f);
                    break;
                case "infinibandGUID":
                    guid = in.string(f);
                    break;
                case POD_ANNOTATIONS_KEY:
                    annotations = in.stringMap(f);
                    break;
                default:
                    extra = in.extra(extra, f);
            }
        }
        try {
            return new RuntimeConfig(portMappings, ipRanges, ips, Optional.ofNullable(mac), Optional.ofNullable(bandwidth),
                    Optional.ofNullable(dns), aliases, Optional.ofNullable(cgroupPath), Optional.ofNullable(deviceID),
                    Optional.ofNullable(guid), annotations, extra);
        } catch (IllegalArgumentException e) {
            throw in.invalid(e);
        }
    }

    @Override
    public void writeJson(JsonGenerator g) throws IOException {
        g.writeStartObject();
        Out.values(g, "portMappings", portMappings);
        Out.rangeSets(g, "ipRanges", ipRanges);
        Out.strings(g, "ips", ips);
        Out.string(g, "mac", mac);
        if (bandwidth.isPresent()) {
            g.writeFieldName("bandwidth");
            bandwidth.get().writeJson(g);
        }
        if (dns.isPresent()) {
            g.writeFieldName("dns");
            dns.get().writeJson(g);
        }
        Out.strings(g, "aliases", aliases);
        Out.string(g, "cgroupPath", cgroupPath);
        Out.string(g, "deviceID", deviceID);
        Out.string(g, "infinibandGUID", infinibandGUID);
        Out.stringMap(g, POD_ANNOTATIONS_KEY, podAnnotations);
        JsonValues.writeFields(g, extra);
        g.writeEndObject();
    }
}
