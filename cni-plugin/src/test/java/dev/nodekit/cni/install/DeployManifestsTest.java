package dev.nodekit.cni.install;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.nodekit.cni.daemon.CniDaemonCommand;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import picocli.CommandLine;

/**
 * deploy/kubernetes/cni loaded with fabric8: the kinds are there, the RBAC lets the DaemonSet's service
 * account read nodes, both containers' arguments parse as the commands they run (with the downward
 * API variable substituted), every host path those arguments name is mounted from the same host path,
 * and the installer and the daemon agree on the socket.
 */
class DeployManifestsTest {
    static final Path DIR = Path.of("..", "deploy", "kubernetes", "cni");
    static List<HasMetadata> objects = new ArrayList<>();

    @BeforeAll
    static void load() throws Exception {
        try (KubernetesClient client = new KubernetesClientBuilder().build()) {
            for (String f : List.of("namespace.yaml", "rbac.yaml", "daemonset.yaml")) {
                try (InputStream in = Files.newInputStream(DIR.resolve(f))) {
                    objects.addAll(client.load(in).items());
                }
            }
        }
    }

    static <T extends HasMetadata> T one(Class<T> kind) {
        List<T> found = new ArrayList<>();
        for (HasMetadata o : objects) {
            if (kind.isInstance(o)) {
                found.add(kind.cast(o));
            }
        }
        assertThat(found).as(kind.getSimpleName()).hasSize(1);
        return found.get(0);
    }

    static PodSpec pod() {
        return one(DaemonSet.class).getSpec().getTemplate().getSpec();
    }

    /** The host path mounted at {@code mountPath} in {@code c}, or empty. */
    static Optional<String> hostPathAt(Container c, String mountPath) {
        for (VolumeMount m : c.getVolumeMounts()) {
            if (m.getMountPath().equals(mountPath)) {
                for (Volume v : pod().getVolumes()) {
                    if (v.getName().equals(m.getName()) && v.getHostPath() != null) {
                        return Optional.of(v.getHostPath().getPath());
                    }
                }
            }
        }
        return Optional.empty();
    }

    static List<String> substituted(Container c) {
        Map<String, String> env = new HashMap<>();
        env.put("NODE_NAME", "node-1");
        List<String> out = new ArrayList<>();
        for (String a : c.getArgs()) {
            String s = a;
            for (var e : env.entrySet()) {
                s = s.replace("$(" + e.getKey() + ")", e.getValue());
            }
            out.add(s);
        }
        return out;
    }

    @Test
    void holdsTheKindsAndTheRbacTheDaemonSetUses() {
        assertThat(objects).extracting(HasMetadata::getKind).containsExactly("Namespace", "ServiceAccount", "ClusterRole",
                "ClusterRoleBinding", "DaemonSet");
        DaemonSet ds = one(DaemonSet.class);
        String sa = ds.getSpec().getTemplate().getSpec().getServiceAccountName();
        ClusterRoleBinding b = one(ClusterRoleBinding.class);
        assertThat(b.getSubjects()).anySatisfy(s -> {
            assertThat(s.getName()).isEqualTo(sa);
            assertThat(s.getNamespace()).isEqualTo(ds.getMetadata().getNamespace());
        });
        ClusterRole role = one(ClusterRole.class);
        assertThat(b.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
        assertThat(role.getRules()).anySatisfy(r -> {
            assertThat(r.getResources()).contains("nodes");
            assertThat(r.getVerbs()).contains("get");
        });
        PodSpec p = pod();
        assertThat(p.getHostNetwork()).isTrue();
        assertThat(p.getHostPID()).isTrue();
        assertThat(p.getTolerations()).anySatisfy(t -> assertThat(t.getOperator()).isEqualTo("Exists"));
        assertThat(ds.getSpec().getSelector().getMatchLabels()).isEqualTo(ds.getSpec().getTemplate().getMetadata().getLabels());
    }

    @Test
    void theInitContainerInstallsIntoTheHostsDirectories() {
        Container init = pod().getInitContainers().get(0);
        assertThat(init.getArgs().subList(0, 2)).containsExactly("cni", "install");
        CniInstallCommand cmd = new CniInstallCommand();
        new CommandLine(cmd).parseArgs(substituted(init).subList(2, init.getArgs().size()).toArray(String[]::new));
        assertThat(cmd.subnetFromNode).isEqualTo("node-1");
        assertThat(init.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("NODE_NAME");
            assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("spec.nodeName");
        });
        InstallSpec spec = cmd.installSpec(List.of("10.244.1.0/24"));
        assertThat(spec.bundleJvm()).as("the host has no JVM of the image").isTrue();
        for (Path p : List.of(spec.binDir(), spec.confDir(), spec.libDir())) {
            assertThat(hostPathAt(init, p.toString())).as("%s mounted from the same host path", p).contains(p.toString());
        }
        assertThat(spec.binDir()).isEqualTo(Path.of("/opt/cni/bin"));
        assertThat(spec.confDir()).isEqualTo(Path.of("/etc/cni/net.d"));
    }

    @Test
    void theDaemonServesTheSocketTheClientsAreGivenAndSeesWhatThePluginsTouch() {
        Container init = pod().getInitContainers().get(0);
        Container daemon = pod().getContainers().get(0);
        assertThat(daemon.getImage()).isEqualTo(init.getImage());
        assertThat(daemon.getSecurityContext().getPrivileged()).isTrue();
        CniInstallCommand install = new CniInstallCommand();
        new CommandLine(install).parseArgs(substituted(init).subList(2, init.getArgs().size()).toArray(String[]::new));
        InstallSpec spec = install.installSpec(List.of("10.244.1.0/24"));

        assertThat(daemon.getArgs().subList(0, 2)).containsExactly("cni", "daemon");
        CommandLine.ParseResult r = new CommandLine(new CniDaemonCommand()).parseArgs(daemon.getArgs().subList(2,
                daemon.getArgs().size()).toArray(String[]::new));
        Path socket = r.matchedOptionValue("--socket", Path.of("/run/nodekit/cni.sock"));
        assertThat(socket).isEqualTo(spec.daemonSocket());
        assertThat(r.hasMatchedOption("--own-socket-dir")).as("kubelet creates the hostPath 0755").isTrue();
        assertThat(hostPathAt(daemon, socket.getParent().toString())).contains(socket.getParent().toString());
        Path conf = r.matchedOptionValue("--conf-dir", Path.of("/etc/cni/net.d"));
        assertThat(conf).isEqualTo(spec.confDir());
        assertThat(hostPathAt(daemon, conf.toString())).contains(conf.toString());
        String cri = r.matchedOptionValue("--cri-endpoint", "");
        String criSocket = cri.substring("unix://".length());
        assertThat(hostPathAt(daemon, criSocket)).contains(criSocket);
        // host-local's state, pod namespaces by name, the xtables lock shared with the host's iptables.
        assertThat(hostPathAt(daemon, "/var/lib/cni")).contains("/var/lib/cni");
        assertThat(hostPathAt(daemon, "/run/netns")).contains("/run/netns");
        assertThat(daemon.getVolumeMounts()).anySatisfy(m -> {
            assertThat(m.getMountPath()).isEqualTo("/run/netns");
            assertThat(m.getMountPropagation()).isEqualTo("HostToContainer");
        });
        assertThat(hostPathAt(daemon, "/run/xtables.lock")).contains("/run/xtables.lock");
        assertThat(one(DaemonSet.class).getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds())
                .isGreaterThan(30L);
    }
}
