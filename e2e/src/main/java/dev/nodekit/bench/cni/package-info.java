/** {@code nodekit bench cni}: nodekit's CNI plugins against the Go reference plugins, same run, same host. */
package dev.nodekit.bench.cni;
