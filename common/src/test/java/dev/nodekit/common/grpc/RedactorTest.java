package dev.nodekit.common.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;

import dev.nodekit.spec.cri.v1.AuthConfig;
import dev.nodekit.spec.cri.v1.CriProto;
import dev.nodekit.spec.cri.v1.ImageSpec;
import dev.nodekit.spec.cri.v1.ListContainersRequest;
import dev.nodekit.spec.cri.v1.PullImageRequest;
import dev.nodekit.spec.csi.v1.CreateVolumeRequest;
import dev.nodekit.spec.csi.v1.CsiProto;
import dev.nodekit.spec.csi.v1.NodeStageVolumeRequest;

class RedactorTest {
    /** Per csi.md §1 "Secrets fields": the CSI v1.12 requests that carry a {@code secrets} map. */
    private static final Set<String> CSI_REQUESTS_WITH_SECRETS = Set.of(
            "CreateVolumeRequest", "DeleteVolumeRequest", "ControllerPublishVolumeRequest",
            "ControllerUnpublishVolumeRequest", "ValidateVolumeCapabilitiesRequest", "ControllerModifyVolumeRequest",
            "CreateSnapshotRequest", "DeleteSnapshotRequest", "ListSnapshotsRequest", "GetSnapshotRequest",
            "ControllerExpandVolumeRequest", "NodeStageVolumeRequest", "NodePublishVolumeRequest",
            "NodeExpandVolumeRequest", "CreateVolumeGroupSnapshotRequest", "DeleteVolumeGroupSnapshotRequest",
            "GetVolumeGroupSnapshotRequest", "GetMetadataAllocatedRequest", "GetMetadataDeltaRequest");

    /** Deep enough for every CSI/CRI nesting; only stops recursive types. */
    private static final int MAX_DEPTH = 6;

    @Test
    void everySecretOfEveryCsiAndCriMessageIsMaskedAndEverythingElseShows() throws Exception {
        List<String> failures = new ArrayList<>();
        int types = 0;
        int hidden = 0;
        int shown = 0;
        for (Descriptor type : allMessageTypes(CsiProto.getDescriptor(), CriProto.getDescriptor())) {
            types++;
            int variants = 1;
            for (OneofDescriptor o : type.getRealOneofs()) {
                variants = Math.max(variants, o.getFieldCount());
            }
            for (int v = 0; v < variants; v++) {
                Filler filler = new Filler(v);
                Message dynamic = filler.build(type, false, 0);
                List<Message> forms = new ArrayList<>(List.of(dynamic));
                if (!type.getOptions().getMapEntry()) {
                    forms.add(generated(type, dynamic)); // what production logs: the generated class
                }
                for (Message m : forms) {
                    String text = Redactor.toLogString(m, Integer.MAX_VALUE);
                    for (var e : filler.expected.entrySet()) {
                        boolean present = text.contains(e.getKey());
                        if (e.getValue() && !present) {
                            failures.add(type.getFullName() + " (" + m.getClass().getSimpleName()
                                    + "): non-secret " + e.getKey() + " missing from " + text);
                        } else if (!e.getValue() && present) {
                            failures.add(type.getFullName() + " (" + m.getClass().getSimpleName()
                                    + "): SECRET " + e.getKey() + " leaked in " + text);
                        }
                    }
                }
                hidden += filler.expected.values().stream().filter(b -> !b).count();
                shown += filler.expected.values().stream().filter(b -> b).count();
            }
        }
        assertThat(failures).isEmpty();
        assertThat(types).as("message types walked").isGreaterThan(300);
        assertThat(hidden).as("secret values planted").isGreaterThan(CSI_REQUESTS_WITH_SECRETS.size());
        assertThat(shown).as("plain values planted").isGreaterThan(1000);
    }

    @Test
    void csiSecretsFieldsAreExactlyTheDocumentedOnes() {
        Map<String, Set<String>> found = new LinkedHashMap<>();
        for (Descriptor type : allMessageTypes(CsiProto.getDescriptor())) {
            Set<FieldDescriptor> secret = Redactor.secretFields(type);
            if (!secret.isEmpty()) {
                found.put(type.getName(), secret.stream().map(FieldDescriptor::getName).collect(Collectors.toSet()));
            }
        }
        assertThat(found.keySet()).containsExactlyInAnyOrderElementsOf(CSI_REQUESTS_WITH_SECRETS);
        assertThat(found.values()).allSatisfy(fields -> assertThat(fields).containsExactly("secrets"));
        assertThat(Redactor.mayContainSecrets(CreateVolumeRequest.getDescriptor())).isTrue();
        assertThat(Redactor.mayContainSecrets(dev.nodekit.spec.csi.v1.ListVolumesRequest.getDescriptor())).isFalse();
        assertThat(Redactor.mayContainSecrets(dev.nodekit.spec.csi.v1.NodeUnstageVolumeRequest.getDescriptor())).isFalse();
    }

    @Test
    void criDebugRedactFieldsAreTheAuthConfigCredentials() {
        Map<String, Set<String>> found = new LinkedHashMap<>();
        for (Descriptor type : allMessageTypes(CriProto.getDescriptor())) {
            Set<FieldDescriptor> secret = Redactor.secretFields(type);
            if (!secret.isEmpty()) {
                found.put(type.getName(), secret.stream().map(FieldDescriptor::getName).collect(Collectors.toSet()));
            }
        }
        assertThat(found).containsOnlyKeys("AuthConfig");
        assertThat(found.get("AuthConfig"))
                .containsExactlyInAnyOrder("password", "auth", "identity_token", "registry_token");
        // Secrets nested one level down are found through the descriptor graph.
        assertThat(Redactor.mayContainSecrets(PullImageRequest.getDescriptor())).isTrue();
        assertThat(Redactor.mayContainSecrets(ListContainersRequest.getDescriptor())).isFalse();
    }

    @Test
    void generatedMessagesPrintCompactlyWithMapKeysKept() {
        NodeStageVolumeRequest req = NodeStageVolumeRequest.newBuilder()
                .setVolumeId("vol-1")
                .setStagingTargetPath("/var/lib/kubelet/staging/vol-1")
                .putSecrets("userKey", "AQD1s3cr3t==")
                .putVolumeContext("pool", "rbd")
                .build();
        String text = Redactor.toLogString(req);
        assertThat(text).isEqualTo("{\"volume_id\":\"vol-1\",\"staging_target_path\":\"/var/lib/kubelet/staging/vol-1\","
                + "\"secrets\":{\"userKey\":\"***\"},\"volume_context\":{\"pool\":\"rbd\"}}");

        PullImageRequest pull = PullImageRequest.newBuilder()
                .setImage(ImageSpec.newBuilder().setImage("registry.example/app:1"))
                .setAuth(AuthConfig.newBuilder().setUsername("bob").setPassword("hunter2").setAuth("Ym9iOmh1bnRlcjI="))
                .build();
        assertThat(Redactor.toLogString(pull))
                .contains("registry.example/app:1", "\"username\":\"bob\"", "\"password\":\"***\"", "\"auth\":\"***\"")
                .doesNotContain("hunter2", "Ym9iOmh1bnRlcjI=");
    }

    @Test
    void longValuesAndLongTextAreCutAndQuotesEscaped() {
        String longId = "x".repeat(Redactor.MAX_VALUE_CHARS + 100);
        String text = Redactor.toLogString(NodeStageVolumeRequest.newBuilder().setVolumeId(longId).build());
        assertThat(text).contains("...(100 more chars)").hasSizeLessThan(Redactor.MAX_VALUE_CHARS + 60);

        var b = NodeStageVolumeRequest.newBuilder();
        for (int i = 0; i < 200; i++) {
            b.putVolumeContext("key-" + i, "v".repeat(200));
        }
        String big = Redactor.toLogString(b.build());
        assertThat(big).endsWith("...(truncated)").hasSizeLessThanOrEqualTo(Redactor.MAX_TEXT_CHARS + 20);

        assertThat(Redactor.toLogString(NodeStageVolumeRequest.newBuilder().setVolumeId("a\"b\nc").build()))
                .isEqualTo("{\"volume_id\":\"a\\\"b\\nc\"}");
        assertThat(Redactor.toLogString(null)).isEqualTo("null");
    }

    @Test
    void anyPayloadsAreNeverOpened() {
        Any any = Any.pack(AuthConfig.newBuilder().setUsername("bob").setPassword("hunter2").build());
        String text = Redactor.toLogString(any);
        assertThat(text).contains("type.googleapis.com/runtime.v1.AuthConfig", "bytes").doesNotContain("hunter2", "bob");
    }

    // --- helpers ---------------------------------------------------------------------------

    static List<Descriptor> allMessageTypes(FileDescriptor... files) {
        List<Descriptor> out = new ArrayList<>();
        for (FileDescriptor f : files) {
            for (Descriptor d : f.getMessageTypes()) {
                collect(d, out);
            }
        }
        return out;
    }

    private static void collect(Descriptor d, List<Descriptor> out) {
        out.add(d);
        for (Descriptor n : d.getNestedTypes()) {
            collect(n, out);
        }
    }

    /** The generated class of {@code type}, parsed from the dynamic message's bytes. */
    private static Message generated(Descriptor type, Message dynamic) throws Exception {
        String pkg = type.getFile().getOptions().getJavaPackage();
        String nested = type.getFullName().substring(type.getFile().getPackage().length() + 1).replace('.', '$');
        Class<?> c = Class.forName(pkg + "." + nested);
        Message prototype = (Message) c.getMethod("getDefaultInstance").invoke(null);
        return prototype.getParserForType().parseFrom(dynamic.toByteString());
    }

    /**
     * Fills every field with a unique marker and records whether the redacted text must show it.
     * Secret-ness is read from the options directly, independently of {@link Redactor}.
     */
    private static final class Filler {
        final Map<String, Boolean> expected = new LinkedHashMap<>();
        private final int variant;
        private int counter;

        Filler(int variant) {
            this.variant = variant;
        }

        static boolean markedSecret(FieldDescriptor f) {
            return f.getOptions().getDebugRedact() || f.getOptions().getExtension(CsiProto.csiSecret);
        }

        Message build(Descriptor type, boolean hidden, int depth) {
            DynamicMessage.Builder b = DynamicMessage.newBuilder(type);
            for (FieldDescriptor f : type.getFields()) {
                OneofDescriptor o = f.getRealContainingOneof();
                if (o != null && o.getFields().indexOf(f) != variant % o.getFieldCount()) {
                    continue; // one member per oneof per variant
                }
                boolean valueHidden = hidden || markedSecret(f);
                if (f.isMapField()) {
                    FieldDescriptor kf = f.getMessageType().findFieldByNumber(1);
                    FieldDescriptor vf = f.getMessageType().findFieldByNumber(2);
                    Object value = value(vf, valueHidden, depth);
                    if (value == null) {
                        continue;
                    }
                    Object key = kf.getType() == FieldDescriptor.Type.STRING ? marker(hidden) : scalar(kf);
                    Message entry = DynamicMessage.newBuilder(f.getMessageType())
                            .setField(kf, key).setField(vf, value).build();
                    b.addRepeatedField(f, entry);
                } else {
                    Object value = value(f, valueHidden, depth);
                    if (value == null) {
                        continue;
                    }
                    if (f.isRepeated()) {
                        b.addRepeatedField(f, value);
                    } else {
                        b.setField(f, value);
                    }
                }
            }
            return b.build();
        }

        private Object value(FieldDescriptor f, boolean hidden, int depth) {
            return switch (f.getJavaType()) {
                case STRING -> marker(hidden);
                case BYTE_STRING -> ByteString.copyFromUtf8(marker(hidden));
                case MESSAGE -> depth < MAX_DEPTH ? build(f.getMessageType(), hidden, depth + 1) : null;
                default -> scalar(f);
            };
        }

        private String marker(boolean hidden) {
            String m = "<<S3CR3T-" + (counter++) + ">>";
            expected.put(m, !hidden);
            return m;
        }

        private static Object scalar(FieldDescriptor f) {
            return switch (f.getJavaType()) {
                case INT -> 7;
                case LONG -> 7L;
                case FLOAT -> 7.5f;
                case DOUBLE -> 7.5d;
                case BOOLEAN -> true;
                case ENUM -> f.getEnumType().getValues().get(f.getEnumType().getValues().size() - 1);
                default -> throw new IllegalArgumentException(f.getFullName());
            };
        }
    }

    @Test
    void markerBookkeepingIsSane() {
        // The walk above would pass vacuously if markers never reached the output: check one by hand.
        Filler f = new Filler(0);
        Message m = f.build(NodeStageVolumeRequest.getDescriptor(), false, 0);
        Set<String> hiddenMarkers = new TreeSet<>();
        f.expected.forEach((k, v) -> {
            if (!v) {
                hiddenMarkers.add(k);
            }
        });
        assertThat(hiddenMarkers).hasSize(1); // the secrets map's one value
        String text = Redactor.toLogString(m);
        assertThat(text).contains("\"secrets\":{\"<<S3CR3T-").contains(":\"***\"}");
    }
}
