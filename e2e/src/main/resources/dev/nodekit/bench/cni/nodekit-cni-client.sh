#!/bin/sh
# nodekit CNI thin client in POSIX sh + socat: the measured alternative to nodekit-cni-client.c in
# 'nodekit bench cni' (never installed by 'nodekit cni install'). Same wire protocol, but a shell
# pipeline cannot wait for "ready" before committing, so it sends the request and the commit byte
# in one go: it can fall back to the JVM launcher only when socat cannot connect at all.
conf="${0%/*}/nodekit-cni-client.conf"
sock=$(sed -n 's/^socket=//p' "$conf")
fb=$(sed -n 's/^fallback_dir=//p' "$conf")
name=${0##*/}
tmp=$(mktemp -d) || exit 1
case "${CNI_COMMAND:-}" in
  ''|VERSION) : > "$tmp/in" ;;
  *) cat > "$tmp/in" ;;
esac
env | grep '^CNI_' | tr '\n' '\000' > "$tmp/env"
u32() {
  printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)))"
}
{
  printf 'NKCR\001'
  printf "$(printf '\\%03o' ${#name})"
  printf '%s' "$name"
  u32 $(wc -c < "$tmp/env")
  cat "$tmp/env"
  u32 $(wc -c < "$tmp/in")
  cat "$tmp/in"
  printf 'G'
} > "$tmp/req"
if ! socat -t 100 -T 100 - "UNIX-CONNECT:$sock" < "$tmp/req" > "$tmp/resp" 2>/dev/null || [ ! -s "$tmp/resp" ]; then
  exec 0< "$tmp/in"
  rm -rf "$tmp"
  exec "$fb/$name" "$@"
fi
# "NKCA" v | "NKCD" v exit out_len:u32 out err_len:u32 err
set -- $(od -An -tu1 -j 10 -N 5 "$tmp/resp")
code=$1
len=$(( ($2 << 24) + ($3 << 16) + ($4 << 8) + $5 ))
tail -c +16 "$tmp/resp" | head -c "$len"
rm -rf "$tmp"
exit "$code"
