/**
 * Integration tests of the CRI shim against real containerd 1.6 (the fixture of
 * {@code dev.nodekit.e2e.containerd}): lifecycle and exec through the shim, the CRI suite direct and
 * through it, routing over two containerd instances, runtime and shim crashes, policy rejections.
 * The streaming RPCs containerd 1.6 lacks are covered by the shim's unit tests against an
 * in-process runtime.
 */
package dev.nodekit.e2e.crishim;
