package dev.nodekit.csi;

import java.util.Map;
import java.util.Objects;

import dev.nodekit.spec.csi.v1.TopologyRequirement;

/**
 * The topology segment of this node ({@code <key>: <node id>}): where the volumes this driver
 * creates are accessible, what NodeGetInfo reports and what GetCapacity and CreateVolume match
 * requirements against.
 */
record Topology(String key, String value) {
    Topology {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
    }

    Map<String, String> segments() {
        return Map.of(key, value);
    }

    dev.nodekit.spec.csi.v1.Topology toProto() {
        return dev.nodekit.spec.csi.v1.Topology.newBuilder().putSegments(key, value).build();
    }

    /**
     * True when this node is among the requisite topologies, or none are given. Preferred ones
     * are a hint only (the spec lets the plugin choose any topology when there is no requisite
     * list), and a volume of this driver can only be where its data is: on this node. A segment
     * map matches when every key it names has this node's value; other keys cannot be satisfied.
     */
    boolean satisfies(TopologyRequirement req) {
        return req.getRequisiteCount() == 0 || req.getRequisiteList().stream().anyMatch(this::matches);
    }

    /** True when {@code t} describes this node: each of its segments is ours. */
    boolean matches(dev.nodekit.spec.csi.v1.Topology t) {
        for (Map.Entry<String, String> e : t.getSegmentsMap().entrySet()) {
            if (!e.getKey().equals(key) || !e.getValue().equals(value)) {
                return false;
            }
        }
        return true;
    }
}
