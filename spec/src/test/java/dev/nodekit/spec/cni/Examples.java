package dev.nodekit.spec.cni;

/**
 * Hand-written JSON documents in the shapes of the CNI spec text (SPEC.md section 1 and 5 examples,
 * CONVENTIONS.md capabilities, a bridge + host-local ADD), with some unknown keys mixed in to prove
 * they survive.
 */
final class Examples {
    private Examples() {
    }

    /** The spec's configuration list example (bridge + tuning + portmap), with plugin-specific keys. */
    static final String CONFLIST = """
            {
              "cniVersion": "1.1.0",
              "cniVersions": ["1.0.0", "1.1.0"],
              "name": "dbnet",
              "plugins": [
                {
                  "type": "bridge",
                  "bridge": "cni0",
                  "keyA": ["some more", "plugin specific", "configuration"],
                  "ipam": {
                    "type": "host-local",
                    "subnet": "10.1.0.0/16",
                    "gateway": "10.1.0.1",
                    "routes": [{"dst": "0.0.0.0/0"}]
                  },
                  "dns": {"nameservers": ["10.1.0.1"]}
                },
                {
                  "type": "tuning",
                  "capabilities": {"mac": true},
                  "sysctl": {"net.core.somaxconn": "500"}
                },
                {
                  "type": "portmap",
                  "capabilities": {"portMappings": true}
                }
              ]
            }
            """;

    /**
     * What the bridge plugin reads on stdin for a chained ADD: runtimeConfig with portMappings, ips
     * and mac, args, prevResult, and the plugin's own keys.
     */
    static final String BRIDGE_STDIN = """
            {
              "cniVersion": "1.0.0",
              "name": "k8s-pod-network",
              "type": "bridge",
              "bridge": "cni0",
              "isGateway": true,
              "isDefaultGateway": false,
              "mtu": 1450,
              "hairpinMode": true,
              "vlanTrunk": [{"id": 101}, {"minID": 200, "maxID": 299}],
              "ipMasq": true,
              "ipam": {
                "type": "host-local",
                "ranges": [[{"subnet": "10.88.0.0/16"}]],
                "routes": [{"dst": "0.0.0.0/0"}]
              },
              "dns": {"nameservers": ["10.96.0.10"], "search": ["svc.cluster.local"], "options": ["ndots:5"]},
              "runtimeConfig": {
                "portMappings": [
                  {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
                  {"hostPort": 8443, "containerPort": 443, "protocol": "tcp", "hostIP": "192.168.1.10"},
                  {"hostPort": 5353, "containerPort": 53, "protocol": "udp"}
                ],
                "ips": ["10.88.0.42/16", "fd00:10:88::42"],
                "mac": "c2:11:22:33:44:55",
                "bandwidth": {"ingressRate": 1000000, "ingressBurst": 2000000, "egressRate": 3000000, "egressBurst": 4000000},
                "dns": {"servers": ["10.96.0.10"], "searches": ["default.svc.cluster.local"], "options": ["ndots:5"]},
                "aliases": ["web", "web.default"],
                "cgroupPath": "/kubepods/besteffort/pod1234",
                "deviceID": "0000:03:00.1",
                "infinibandGUID": "c2:11:22:33:44:55:66:77",
                "io.kubernetes.cri.pod-annotations": {"team": "net", "k8s.v1.cni.cncf.io/networks": "[]"},
                "x-future-capability": {"enabled": true, "weight": 0.75}
              },
              "args": {"cni": {"ips": ["10.88.0.42"], "labels": [{"key": "app", "value": "web"}]}},
              "prevResult": {
                "cniVersion": "1.0.0",
                "ips": [{"address": "10.88.0.42/16", "gateway": "10.88.0.1"}],
                "routes": [{"dst": "0.0.0.0/0"}],
                "x-ipam-lease": {"expires": 1735689600, "renewable": null}
              },
              "x-nullable": null,
              "x-big": 123456789012345678901234567890,
              "x-float": 1.25
            }
            """;

    /** host-local with dual-stack range sets, routes, dataDir and resolvConf. */
    static final String HOST_LOCAL = """
            {
              "cniVersion": "1.1.0",
              "name": "dual",
              "type": "ptp",
              "ipam": {
                "type": "host-local",
                "ranges": [
                  [
                    {"subnet": "10.1.2.0/24", "rangeStart": "10.1.2.9", "rangeEnd": "10.1.2.40", "gateway": "10.1.2.1"},
                    {"subnet": "10.1.4.0/24"}
                  ],
                  [{"subnet": "3ffe:ffff:0:01ff::/64", "rangeStart": "3ffe:ffff:0:01ff::0010", "rangeEnd": "3ffe:ffff:0:01ff::0020"}]
                ],
                "routes": [{"dst": "0.0.0.0/0"}, {"dst": "192.168.0.0/16", "gw": "10.1.2.1"}, {"dst": "3ffe:ffff:0:01ff::1/64"}],
                "dataDir": "/run/my-orchestrator/container-ipam-state",
                "resolvConf": "/etc/resolv.conf"
              }
            }
            """;

    /** host-local with the legacy single range at the top of the ipam object. */
    static final String HOST_LOCAL_LEGACY = """
            {
              "cniVersion": "0.3.1",
              "name": "mynet",
              "type": "bridge",
              "ipam": {
                "type": "host-local",
                "subnet": "10.10.0.0/16",
                "rangeStart": "10.10.1.20",
                "rangeEnd": "10.10.3.50",
                "gateway": "10.10.0.254",
                "ranges": [[{"subnet": "10.20.0.0/16"}]]
              }
            }
            """;

    /** A GC request: libcni sets both attachment keys. */
    static final String GC = """
            {
              "cniVersion": "1.1.0",
              "name": "k8s-pod-network",
              "type": "bridge",
              "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.0.0/16"}]]},
              "cni.dev/valid-attachments": [
                {"containerID": "3f6940ab5ab43bc5", "ifname": "eth0"},
                {"containerID": "9b2c11aa00ff", "ifname": "net1"}
              ],
              "cni.dev/attachments": [
                {"containerID": "3f6940ab5ab43bc5", "ifname": "eth0"},
                {"containerID": "9b2c11aa00ff", "ifname": "net1"}
              ]
            }
            """;

    /**
     * A bridge + host-local ADD result (bridge, host veth, container eth0; dual stack) in the shape of
     * {@code version}: with {@code ips[].version} before 1.0.0. Unknown keys at three levels.
     */
    static String bridgeResult(String version) {
        boolean withIpVersion = version.startsWith("0.");
        String v4 = withIpVersion ? "\"version\": \"4\", " : "";
        String v6 = withIpVersion ? "\"version\": \"6\", " : "";
        return """
                {
                  "cniVersion": "%s",
                  "interfaces": [
                    {"name": "cni0", "mac": "0a:58:0a:58:00:01"},
                    {"name": "veth3a8e5f1c", "mac": "6e:3b:2c:1d:4f:aa"},
                    {"name": "eth0", "mac": "be:7d:1c:55:aa:02", "sandbox": "/var/run/netns/blue", "x-peer": "veth3a8e5f1c"}
                  ],
                  "ips": [
                    {%s"interface": 2, "address": "10.88.0.5/16", "gateway": "10.88.0.1", "x-lease": 3600},
                    {%s"interface": 2, "address": "fd00:10:88::5/64", "gateway": "fd00:10:88::1"}
                  ],
                  "routes": [
                    {"dst": "0.0.0.0/0", "gw": "10.88.0.1", "x-comment": "default"},
                    {"dst": "::/0"}
                  ],
                  "dns": {"nameservers": ["10.88.0.1"], "domain": "cluster.local", "search": ["default.svc.cluster.local"], "options": ["ndots:5"]},
                  "cilium.io/endpoint": {"id": 42, "labels": ["a", "b"]}
                }
                """.formatted(version, v4, v6);
    }

    /** The same content a 0.2.0 plugin would print (what libcni's down-conversion produces). */
    static final String BRIDGE_RESULT_020 = """
            {
              "cniVersion": "0.2.0",
              "ip4": {"ip": "10.88.0.5/16", "gateway": "10.88.0.1", "routes": [{"dst": "0.0.0.0/0", "gw": "10.88.0.1", "x-comment": "default"}], "x-lease": 3600},
              "ip6": {"ip": "fd00:10:88::5/64", "gateway": "fd00:10:88::1", "routes": [{"dst": "::/0"}]},
              "dns": {"nameservers": ["10.88.0.1"], "domain": "cluster.local", "search": ["default.svc.cluster.local"], "options": ["ndots:5"]},
              "cilium.io/endpoint": {"id": 42, "labels": ["a", "b"]}
            }
            """;

    /** A 1.1.0 result using every 1.1.0-only attribute. */
    static final String RESULT_110_ATTRS = """
            {
              "cniVersion": "1.1.0",
              "interfaces": [
                {"name": "net1", "mac": "02:00:00:00:00:01", "mtu": 9000, "sandbox": "/run/netns/a", "socketPath": "/var/run/vhost/net1.sock", "pciID": "0000:3b:00.2"}
              ],
              "ips": [{"interface": 0, "address": "192.168.50.7/24"}],
              "routes": [
                {"dst": "0.0.0.0/0", "gw": "192.168.50.1", "mtu": 8950, "advmss": 8910, "priority": 100, "table": 200, "scope": 0},
                {"dst": "192.168.50.0/24", "scope": 253}
              ]
            }
            """;

    /** {@link #RESULT_110_ATTRS} after dropping the 1.1.0-only attributes, in {@code version}'s shape. */
    static String result110AttrsDropped(String version) {
        String v = version.startsWith("0.") ? "\"version\": \"4\", " : "";
        return """
                {
                  "cniVersion": "%s",
                  "interfaces": [{"name": "net1", "mac": "02:00:00:00:00:01", "sandbox": "/run/netns/a"}],
                  "ips": [{%s"interface": 0, "address": "192.168.50.7/24"}],
                  "routes": [{"dst": "0.0.0.0/0", "gw": "192.168.50.1"}, {"dst": "192.168.50.0/24"}]
                }
                """.formatted(version, v);
    }

    static final String ERROR = """
            {"cniVersion": "1.1.0", "code": 7, "msg": "Invalid Configuration", "details": "ipam.ranges[0][0].subnet: '10.0.0.0' is not a CIDR"}
            """;

    static final String VERSION = """
            {"cniVersion": "1.1.0", "supportedVersions": ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]}
            """;
}
