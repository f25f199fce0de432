#!/usr/bin/env bash
# Installs the Debian packages the integration tests use, only when some are missing (idempotent).
# Real components, not mocks: Ceph (mon/osd/mgr, rbd, rbd-fuse), containerd + runc, the Go reference
# CNI plugins, busybox for locally built images, the node tools (iproute2, iptables, xfsprogs, fuse), gcc
# and libc6-dev for the CNI thin client (compiled by nodekit cni install), socat for nodekit bench cni's sh client.
set -euo pipefail
packages=(
  ceph-mon ceph-osd ceph-mgr ceph-common rbd-fuse
  containerd runc containernetworking-plugins busybox-static
  iproute2 iputils-ping iptables util-linux mount e2fsprogs xfsprogs fuse uuid-runtime procps kmod git
  gcc libc6-dev socat
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: missing ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
