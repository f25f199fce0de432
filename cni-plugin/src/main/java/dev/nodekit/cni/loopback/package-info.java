/** The {@code nodekit-loopback} plugin: {@code lo} up in the pod's namespace (containerd needs one in its bin dir). */
package dev.nodekit.cni.loopback;
