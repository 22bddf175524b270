#!/usr/bin/env bash
# Builds a tiny Linux guest whose init attaches a Strata volume with the real kernel NBD client
# (nbd.ko + nbd-client), puts ext4 on it and checks what it wrote (guest-init.sh). Everything comes
# from Debian: the kernel image package (apt-get download, cached), busybox-static, nbd-client,
# e2fsprogs. Writes OUT/vmlinuz and OUT/initrd.cpio.gz. docs/kernel-nbd.md says what it proves and why
# it is built this way.
#   e2e/kernel-nbd/build-guest.sh OUT_DIR
#   e2e/kernel-nbd/build-guest.sh --fetch-kernel     (only download the kernel package into the cache)
# Exit status 2: a tool or package this machine lacks (the message names it).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="$1"
CACHE="${STRATA_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/strata/guest-kernel}"
export PATH="$PATH:/usr/sbin:/sbin"
mkdir -p "$CACHE"

# The kernel: the package linux-image-amd64 depends on, downloaded once.
deb="$(ls "$CACHE"/linux-image-*-amd64_*.deb 2>/dev/null | grep -v -- '-dbg' | sort | tail -1 || true)"
if [ -z "$deb" ]; then
  command -v apt-get >/dev/null || { echo "build-guest: needs apt-get to download the Debian kernel package" >&2; exit 2; }
  pkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ && !p {print $2; p = 1}')"
  if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then # a machine whose package lists were never fetched
    apt-get update -qq >&2
    pkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ && !p {print $2; p = 1}')"
  fi
  [ -n "$pkg" ] || { echo "build-guest: apt-cache knows no linux-image-amd64 (apt-get update?)" >&2; exit 2; }
  (cd "$CACHE" && apt-get download -q "$pkg" >&2)
  deb="$(ls "$CACHE"/linux-image-*-amd64_*.deb | sort | tail -1)"
fi
[ "$OUT" = --fetch-kernel ] && { echo "$deb"; exit 0; }
for tool in busybox nbd-client mkfs.ext4 e2fsck cpio dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "build-guest: needs $tool (Debian: busybox-static nbd-client e2fsprogs cpio)" >&2; exit 2; }
done
mkdir -p "$OUT"
X="$OUT/kernel"
rm -rf "$X" && mkdir -p "$X"
dpkg-deb -x "$deb" "$X"
kver="$(ls "$X/lib/modules" | head -1)"
cp "$X/boot/vmlinuz-$kver" "$OUT/vmlinuz"

R="$OUT/root"
rm -rf "$R" && mkdir -p "$R"/{bin,sbin,dev,proc,sys,mnt,tmp,etc,modules,lib,lib64,usr/lib}
cp "$(command -v busybox)" "$R/bin/busybox"
# (ldd fails on a static binary, saying so: `|| true` keeps pipefail from taking that as the answer)
{ ldd "$R/bin/busybox" 2>&1 || true; } | grep -q "not a dynamic" \
  || { echo "build-guest: busybox is not static (Debian: busybox-static)" >&2; exit 2; }
# Modules in load order (Debian's .deb has no modules.dep); e1000 for the user-mode network.
M="$X/lib/modules/$kver/kernel"
for m in drivers/net/ethernet/intel/e1000/e1000 drivers/block/nbd lib/crc16 fs/mbcache fs/jbd2/jbd2 crypto/crc32c_generic fs/ext4/ext4; do
  f="$(ls "$M/$m".ko* 2>/dev/null | head -1 || true)"
  [ -n "$f" ] || { echo "build-guest: no module $m in $deb" >&2; exit 2; }
  case "$f" in
    *.ko.xz) xz -dc "$f" > "$R/modules/$(basename "$m").ko" ;;
    *.ko.zst) zstd -qdc "$f" > "$R/modules/$(basename "$m").ko" ;;
    *) cp "$f" "$R/modules/$(basename "$m").ko" ;;
  esac
done
# Dynamic tools and the libraries they load.
for bin in "$(command -v nbd-client)" "$(command -v mkfs.ext4)" "$(command -v e2fsck)"; do
  cp "$bin" "$R/sbin/"
  for lib in $(ldd "$bin" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}'); do
    mkdir -p "$R$(dirname "$lib")"
    cp -L "$lib" "$R$lib"
  done
done
cp "$HERE/guest-init.sh" "$R/init"
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT/initrd.cpio.gz"
rm -rf "$X" "$R"
echo "$OUT/vmlinuz $OUT/initrd.cpio.gz ($kver)"
