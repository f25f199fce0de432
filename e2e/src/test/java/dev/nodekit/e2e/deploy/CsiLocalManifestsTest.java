package dev.nodekit.e2e.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.nodekit.csi.CsiCommand;
import dev.nodekit.csi.CsiConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.api.model.storage.CSIDriver;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * Loads every manifest of {@code deploy/kubernetes/csi-local} and checks that the files agree with
 * each other and with the driver: one driver name everywhere, the socket the driver serves is the
 * one every sidecar dials and kubelet registers, the driver's flags parse into a valid config
 * whose topology key is the default for its name, the mounts kubelet needs propagate, and the
 * service account the DaemonSet runs as is the one the bindings grant.
 */
class CsiLocalManifestsTest {
    static final Path DIR = Path.of("..", "deploy", "kubernetes", "csi-local");
    static List<HasMetadata> all;

    @BeforeAll
    static void load() throws IOException {
        KubernetesSerialization k8s = new KubernetesSerialization();
        all = new ArrayList<>();
        try (Stream<Path> files = Files.list(DIR)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                Object o = k8s.unmarshal(Files.readString(f));
                if (o instanceof KubernetesList l) {
                    all.addAll(l.getItems());
                } else if (o instanceof Collection<?> c) {
                    c.forEach(x -> all.add((HasMetadata) x));
                } else {
                    all.add((HasMetadata) o);
                }
            }
        }
    }

    static <T extends HasMetadata> T one(Class<T> type) {
        List<T> l = all.stream().filter(type::isInstance).map(type::cast).toList();
        assertThat(l).as("exactly one %s", type.getSimpleName()).hasSize(1);
        return l.get(0);
    }

    static GenericKubernetesResource generic(String kind) {
        List<GenericKubernetesResource> l = all.stream().filter(GenericKubernetesResource.class::isInstance)
                .map(GenericKubernetesResource.class::cast).filter(r -> r.getKind().equals(kind)).toList();
        assertThat(l).as("exactly one %s", kind).hasSize(1);
        return l.get(0);
    }

    static Container container(DaemonSet ds, String name) {
        return ds.getSpec().getTemplate().getSpec().getContainers().stream().filter(c -> c.getName().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no container " + name));
    }

    static Optional<String> flag(Container c, String name) {
        return c.getArgs().stream().filter(a -> a.startsWith(name + "=")).map(a -> a.substring(name.length() + 1))
                .findFirst();
    }

    static Volume volume(DaemonSet ds, String name) {
        return ds.getSpec().getTemplate().getSpec().getVolumes().stream().filter(v -> v.getName().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no volume " + name));
    }

    static VolumeMount mount(Container c, String mountPath) {
        return c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(mountPath)).findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + " does not mount " + mountPath));
    }

    @Test
    void everyManifestLoadsAndHasAnExpectedKind() {
        assertThat(all).extracting(HasMetadata::getKind).containsExactlyInAnyOrder("CSIDriver", "DaemonSet",
                "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
                "StorageClass", "VolumeSnapshotClass");
        assertThat(generic("VolumeSnapshotClass").getApiVersion()).isEqualTo("snapshot.storage.k8s.io/v1");
    }

    @Test
    void oneDriverNameEverywhere() {
        DaemonSet ds = one(DaemonSet.class);
        CsiConfig config = driverConfig(ds);
        String driver = one(CSIDriver.class).getMetadata().getName();
        assertThat(config.driverName()).isEqualTo(driver);
        assertThat(one(StorageClass.class).getProvisioner()).isEqualTo(driver);
        assertThat(generic("VolumeSnapshotClass").getAdditionalProperties().get("driver")).isEqualTo(driver);
        assertThat(volume(ds, "plugin-dir").getHostPath().getPath()).isEqualTo("/var/lib/kubelet/plugins/" + driver);
        assertThat(flag(container(ds, "node-driver-registrar"), "--kubelet-registration-path"))
                .contains("/var/lib/kubelet/plugins/" + driver + "/csi.sock");
    }

    @Test
    void theDriversSocketIsTheOneEverySidecarDialsAndKubeletRegisters() {
        DaemonSet ds = one(DaemonSet.class);
        CsiConfig config = driverConfig(ds);
        Container driver = container(ds, "nodekit-csi");
        String pluginDirInPod = mount(driver, "/csi").getMountPath();
        assertThat(mount(driver, "/csi").getName()).isEqualTo("plugin-dir");
        assertThat(config.socket()).isEqualTo(Path.of(pluginDirInPod, "csi.sock"));
        for (String sidecar : List.of("csi-provisioner", "csi-snapshotter", "csi-resizer", "node-driver-registrar",
                "liveness-probe")) {
            Container c = container(ds, sidecar);
            assertThat(flag(c, "--csi-address")).as(sidecar).contains(config.socket().toString());
            assertThat(mount(c, "/csi").getName()).as(sidecar + " mounts the plugin dir").isEqualTo("plugin-dir");
        }
        Path hostSocket = Path.of(flag(container(ds, "node-driver-registrar"), "--kubelet-registration-path")
                .orElseThrow());
        assertThat(hostSocket).isEqualTo(Path.of(volume(ds, "plugin-dir").getHostPath().getPath())
                .resolve(config.socket().getFileName()));
        Container registrar = container(ds, "node-driver-registrar");
        assertThat(volume(ds, mount(registrar, "/registration").getName()).getHostPath().getPath())
                .isEqualTo("/var/lib/kubelet/plugins_registry");
    }

    @Test
    void topologyKeyAndNodeIdAgree() {
        DaemonSet ds = one(DaemonSet.class);
        CsiConfig config = driverConfig(ds);
        assertThat(config.topologyKey()).isEqualTo(CsiConfig.defaultTopologyKey(config.driverName()));
        assertThat(container(ds, "nodekit-csi").getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("NODE_NAME");
            assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("spec.nodeName");
        });
        assertThat(flag(container(ds, "nodekit-csi"), "--node-id")).contains("$(NODE_NAME)");
        for (String sidecar : List.of("csi-provisioner", "csi-snapshotter")) {
            Container c = container(ds, sidecar);
            assertThat(flag(c, "--node-deployment")).as(sidecar).contains("true");
            assertThat(c.getEnv()).as(sidecar + " knows its node").anySatisfy(e -> {
                assertThat(e.getName()).isEqualTo("NODE_NAME");
                assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("spec.nodeName");
            });
        }
        assertThat(flag(container(ds, "csi-provisioner"), "--enable-capacity")).contains("true");
    }

    @Test
    void kubeletDirectoriesPropagateBothWaysAndTheDriverIsPrivileged() {
        DaemonSet ds = one(DaemonSet.class);
        Container driver = container(ds, "nodekit-csi");
        assertThat(driver.getSecurityContext().getPrivileged()).isTrue();
        for (String path : List.of("/var/lib/kubelet/pods", "/var/lib/kubelet/plugins")) {
            VolumeMount m = mount(driver, path);
            assertThat(m.getMountPropagation()).as(path).isEqualTo("Bidirectional");
            assertThat(volume(ds, m.getName()).getHostPath().getPath()).isEqualTo(path);
        }
        CsiConfig config = driverConfig(ds);
        VolumeMount data = driver.getVolumeMounts().stream().filter(m -> config.dataDir().startsWith(m.getMountPath()))
                .findFirst().orElseThrow(() -> new AssertionError("the data dir is not on a host path"));
        assertThat(volume(ds, data.getName()).getHostPath()).isNotNull();
        mount(driver, "/dev");
    }

    @Test
    void probesAndMetricsUseTheDeclaredPorts() {
        DaemonSet ds = one(DaemonSet.class);
        Container driver = container(ds, "nodekit-csi");
        int healthz = driver.getPorts().stream().filter(p -> p.getName().equals("healthz")).findFirst().orElseThrow()
                .getContainerPort();
        assertThat(flag(container(ds, "liveness-probe"), "--health-port")).contains(Integer.toString(healthz));
        assertThat(driver.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("healthz");
        int metrics = driver.getPorts().stream().filter(p -> p.getName().equals("metrics")).findFirst().orElseThrow()
                .getContainerPort();
        assertThat(driverConfig(ds).metricsAddress()).contains(":" + metrics);
    }

    @Test
    void objectsAreWhatANodeLocalDriverNeeds() {
        CSIDriver d = one(CSIDriver.class);
        assertThat(d.getSpec().getStorageCapacity()).isTrue();
        assertThat(d.getSpec().getAttachRequired()).isFalse();
        StorageClass sc = one(StorageClass.class);
        assertThat(sc.getVolumeBindingMode()).isEqualTo("WaitForFirstConsumer");
        assertThat(sc.getAllowVolumeExpansion()).isTrue();
        assertThat(sc.getParameters().keySet()).allMatch(k -> k.equals("pool") || k.startsWith("csi.storage.k8s.io/"));
        assertThat(sc.getParameters()).containsEntry("csi.storage.k8s.io/fstype", "ext4");
        assertThat(generic("VolumeSnapshotClass").getAdditionalProperties()).containsEntry("deletionPolicy", "Delete");
    }

    @Test
    void theServiceAccountIsTheOneTheBindingsGrant() {
        DaemonSet ds = one(DaemonSet.class);
        String ns = ds.getMetadata().getNamespace();
        assertThat(one(Namespace.class).getMetadata().getName()).isEqualTo(ns);
        ServiceAccount sa = one(ServiceAccount.class);
        assertThat(sa.getMetadata().getNamespace()).isEqualTo(ns);
        assertThat(ds.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo(sa.getMetadata().getName());
        List<Subject> subjects = new ArrayList<>(one(ClusterRoleBinding.class).getSubjects());
        RoleBinding rb = one(RoleBinding.class);
        assertThat(rb.getMetadata().getNamespace()).isEqualTo(ns);
        subjects.addAll(rb.getSubjects());
        assertThat(subjects).allSatisfy(s -> {
            assertThat(s.getKind()).isEqualTo("ServiceAccount");
            assertThat(s.getName()).isEqualTo(sa.getMetadata().getName());
            assertThat(s.getNamespace()).isEqualTo(ns);
        });
        for (HasMetadata o : all) {
            if (!(o instanceof Namespace) && o.getMetadata().getNamespace() != null) {
                assertThat(o.getMetadata().getNamespace()).as(o.getKind()).isEqualTo(ns);
            }
        }
    }

    /** The driver container's args as {@code nodekit csi} parses them, with kubelet's $(NODE_NAME) filled in. */
    static CsiConfig driverConfig(DaemonSet ds) {
        Container c = container(ds, "nodekit-csi");
        List<String> args = c.getArgs();
        assertThat(args.get(0)).isEqualTo("csi");
        String[] rest = args.subList(1, args.size()).stream().map(a -> a.replace("$(NODE_NAME)", "worker-1"))
                .toArray(String[]::new);
        return CsiCommand.parse(rest);
    }
}
