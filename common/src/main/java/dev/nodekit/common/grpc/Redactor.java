package dev.nodekit.common.grpc;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FieldOptions;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.UnknownFieldSet;

import dev.nodekit.spec.csi.v1.CsiProto;

/**
 * Turns protobuf messages into one-line, JSON-like text for logs with every secret replaced by
 * {@value #MASK}. What is secret comes from the protos themselves: fields marked
 * {@code [(csi.v1.csi_secret) = true]} (CSI's {@code secrets} maps) or
 * {@code [debug_redact = true]} (CRI's {@code AuthConfig} credentials). A secret map keeps its
 * keys and masks its values; a secret message or list is masked whole.
 *
 * <p>Which fields of a message type can reach a secret is computed once per descriptor, so
 * messages without secrets are printed without per-field checks. Unknown fields are never printed:
 * a peer speaking a newer proto version may send secrets we do not know are secrets. Strings are
 * cut at {@value #MAX_VALUE_CHARS} characters and the whole text at {@value #MAX_TEXT_CHARS}, so a
 * 16 MiB message does not become a 16 MiB log line.
 */
public final class Redactor {
    /** What a secret value prints as. */
    public static final String MASK = "***";
    /** Longest string or bytes value printed before it is cut. */
    public static final int MAX_VALUE_CHARS = 512;
    /** Longest text {@link #toLogString} returns (a few characters more for the marker). */
    public static final int MAX_TEXT_CHARS = 16 * 1024;

    /** The field number of the {@code csi_secret} option, to read it when options were parsed without the extension. */
    private static final int CSI_SECRET_FIELD = 1059;

    private static final ConcurrentMap<Descriptor, Plan> PLANS = new ConcurrentHashMap<>();

    private Redactor() {
    }

    /**
     * {@code message} as compact text with secrets masked, e.g.
     * {@code {"volume_id":"v1","secrets":{"user":"***"}}}. Null prints as {@code null}.
     */
    public static String toLogString(MessageOrBuilder message) {
        return toLogString(message, MAX_TEXT_CHARS);
    }

    /** {@link #toLogString(MessageOrBuilder)} cut at {@code maxChars}. */
    static String toLogString(MessageOrBuilder message, int maxChars) {
        if (message == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder(64);
        try {
            writeMessage(sb, message, true, maxChars);
        } catch (TruncatedException e) {
            sb.setLength(maxChars);
            sb.append("...(truncated)");
        }
        return sb.toString();
    }

    /** Whether {@code field} is marked secret ({@code csi_secret} or {@code debug_redact}). */
    public static boolean isSecret(FieldDescriptor field) {
        FieldOptions o = field.getOptions();
        if (o.getDebugRedact()) {
            return true;
        }
        if (o.hasExtension(CsiProto.csiSecret)) {
            return o.getExtension(CsiProto.csiSecret);
        }
        UnknownFieldSet.Field raw = o.getUnknownFields().getField(CSI_SECRET_FIELD);
        List<Long> varints = raw.getVarintList();
        return !varints.isEmpty() && varints.get(varints.size() - 1) != 0;
    }

    /** The fields of {@code type} itself (not of nested types) that are marked secret. */
    public static Set<FieldDescriptor> secretFields(Descriptor type) {
        return plan(type).secretFields();
    }

    /** Whether a message of {@code type} can carry a secret anywhere inside it. */
    public static boolean mayContainSecrets(Descriptor type) {
        return plan(type).mayContainSecrets();
    }

    /** What to check when printing one message type; computed once per descriptor. */
    private record Plan(boolean mayContainSecrets, Set<FieldDescriptor> secretFields) {
    }

    private static Plan plan(Descriptor type) {
        return PLANS.computeIfAbsent(type, Redactor::computePlan);
    }

    private static Plan computePlan(Descriptor type) {
        Set<FieldDescriptor> direct = new LinkedHashSet<>();
        for (FieldDescriptor f : type.getFields()) {
            if (isSecret(f)) {
                direct.add(f);
            }
        }
        // A type may contain secrets if any message type reachable from it (through message, map
        // value or repeated fields, cycles included) has a secret field.
        boolean reachable = !direct.isEmpty();
        Deque<Descriptor> todo = new ArrayDeque<>();
        Set<Descriptor> seen = new HashSet<>();
        todo.add(type);
        seen.add(type);
        while (!reachable && !todo.isEmpty()) {
            for (FieldDescriptor f : todo.poll().getFields()) {
                if (isSecret(f)) {
                    reachable = true;
                    break;
                }
                if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && seen.add(f.getMessageType())) {
                    todo.add(f.getMessageType());
                }
            }
        }
        return new Plan(reachable, Set.copyOf(direct));
    }

    private static void writeMessage(StringBuilder sb, MessageOrBuilder m, boolean check, int max) {
        Descriptor type = m.getDescriptorForType();
        if (type.getFullName().equals("google.protobuf.Any")) {
            writeAny(sb, m);
            return;
        }
        Plan plan = check ? plan(type) : null;
        boolean checkHere = plan != null && plan.mayContainSecrets();
        sb.append('{');
        boolean first = true;
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            // Extensions are not in the plan of the type they extend: check them one by one.
            boolean checkField = checkHere || f.isExtension();
            boolean secret = f.isExtension() ? isSecret(f) : checkHere && plan.secretFields().contains(f);
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append('"').append(f.getName()).append("\":");
            if (f.isMapField()) {
                writeMap(sb, f, (List<?>) e.getValue(), secret, checkField, max);
            } else if (secret) {
                sb.append('"').append(MASK).append('"');
            } else if (f.isRepeated()) {
                sb.append('[');
                List<?> items = (List<?>) e.getValue();
                for (int i = 0; i < items.size(); i++) {
                    if (i > 0) {
                        sb.append(',');
                    }
                    writeValue(sb, f, items.get(i), checkField, max);
                }
                sb.append(']');
            } else {
                writeValue(sb, f, e.getValue(), checkField, max);
            }
            checkLength(sb, max);
        }
        sb.append('}');
    }

    private static void writeMap(StringBuilder sb, FieldDescriptor f, List<?> entries, boolean secret,
            boolean check, int max) {
        Descriptor entryType = f.getMessageType();
        FieldDescriptor keyField = entryType.findFieldByNumber(1);
        FieldDescriptor valueField = entryType.findFieldByNumber(2);
        sb.append('{');
        for (int i = 0; i < entries.size(); i++) {
            MessageOrBuilder entry = (MessageOrBuilder) entries.get(i);
            if (i > 0) {
                sb.append(',');
            }
            appendString(sb, String.valueOf(entry.getField(keyField)));
            sb.append(':');
            if (secret) {
                sb.append('"').append(MASK).append('"');
            } else {
                writeValue(sb, valueField, entry.getField(valueField), check, max);
            }
            checkLength(sb, max);
        }
        sb.append('}');
    }

    private static void writeValue(StringBuilder sb, FieldDescriptor f, Object v, boolean check, int max) {
        switch (f.getType()) {
            case MESSAGE, GROUP -> writeMessage(sb, (MessageOrBuilder) v, check, max);
            case STRING -> appendString(sb, (String) v);
            case BYTES -> {
                ByteString b = (ByteString) v;
                if (b.isValidUtf8()) {
                    appendString(sb, b.toStringUtf8());
                } else {
                    sb.append("\"<").append(b.size()).append(" bytes>\"");
                }
            }
            case ENUM -> sb.append('"').append(((EnumValueDescriptor) v).getName()).append('"');
            case UINT32, FIXED32 -> sb.append(Integer.toUnsignedString((Integer) v));
            case UINT64, FIXED64 -> sb.append(Long.toUnsignedString((Long) v));
            case FLOAT, DOUBLE -> {
                double d = ((Number) v).doubleValue();
                if (Double.isFinite(d)) {
                    sb.append(v);
                } else {
                    sb.append('"').append(v).append('"');
                }
            }
            default -> sb.append(v); // int32, int64, sint*, sfixed*, bool
        }
    }

    /** An Any is opaque without a type registry, and its payload may hold secrets: print only its type. */
    private static void writeAny(StringBuilder sb, MessageOrBuilder any) {
        Descriptor type = any.getDescriptorForType();
        Object url = any.getField(type.findFieldByName("type_url"));
        Object value = any.getField(type.findFieldByName("value"));
        sb.append("{\"type_url\":");
        appendString(sb, String.valueOf(url));
        sb.append(",\"value\":\"<").append(((ByteString) value).size()).append(" bytes>\"}");
    }

    private static void appendString(StringBuilder sb, String s) {
        int n = Math.min(s.length(), MAX_VALUE_CHARS);
        if (n < s.length() && Character.isHighSurrogate(s.charAt(n - 1))) {
            n--; // do not split a surrogate pair
        }
        sb.append('"');
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        if (s.length() > n) {
            sb.append("...(").append(s.length() - n).append(" more chars)");
        }
        sb.append('"');
    }

    private static void checkLength(StringBuilder sb, int max) {
        if (sb.length() > max) {
            throw new TruncatedException();
        }
    }

    /** Unwinds the printer once the text is long enough. */
    private static final class TruncatedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TruncatedException() {
            super(null, null, false, false);
        }
    }
}
