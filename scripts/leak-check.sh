#!/usr/bin/env bash
# Host-state leak check around a test run.
#   leak-check.sh snapshot FILE   record loop devices, netns, links, mounts, iptables rules, daemons
#   leak-check.sh compare FILE    fail (exit 1) listing everything that exists now but did not then
# Tests clean up what they made; this is the net that proves it for the whole integration suite.
set -uo pipefail
state() {
  losetup -a -n -O NAME,BACK-FILE 2>/dev/null | awk '{print "loop " $1 " " $2}'
  ip netns list 2>/dev/null | awk '{print "netns " $1}'
  ip -o link show 2>/dev/null | awk -F': ' '{split($2,a,"@"); print "link " a[1]}'
  awk '{print "mount " $5}' /proc/self/mountinfo 2>/dev/null | grep -E ' (/tmp|/var/lib/kubelet|/run/nodekit|/var/lib/nodekit)'
  for t in filter nat; do
    iptables-save -t $t 2>/dev/null | grep -E '^-A ' | sed "s/^/iptables-$t /"
  done
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    case "$exe" in
      */ceph-mon|*/ceph-osd|*/ceph-mgr|*/radosgw|*/rbd-fuse|*/containerd|*/containerd-shim-runc-v2)
        echo "process ${p#/proc/} $exe" ;;
    esac
  done
  ls /var/lib/cni/networks 2>/dev/null | sed 's/^/cni-network /'
  return 0
}
case "${1:-}" in
  snapshot) state | sort -u > "${2:?file}" ;;
  compare)
    now=$(mktemp)
    state | sort -u > "$now"
    leaks=$(comm -13 "${2:?file}" "$now")
    rm -f "$now"
    if [ -n "$leaks" ]; then
      echo "LEAK CHECK FAILED: the test run left these behind:" >&2
      echo "$leaks" | sed 's/^/  /' >&2
      exit 1
    fi
    echo "leak check: nothing left behind (loop devices, netns, links, mounts, iptables rules, daemons)"
    ;;
  *) echo "usage: $0 snapshot|compare FILE" >&2; exit 2 ;;
esac
