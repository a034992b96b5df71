#!/bin/bash
# Prepares the camera test VM in VM_DIR (default .tools/camera-vm): a Debian kernel (vmlinuz) and
# a small busybox initramfs (initrd.cpio.gz) holding tests/camera/vm/init and the modules for
# virtio, 9p, virtio-net, virtio-rng and vivid, Linux's virtual camera driver. The guest runs the
# host's own programs (deno, ffmpeg, v4l2-ctl) from the host root shared read-only over 9p, so
# nothing else is installed into it.
#
#   bash tests/camera/vm/setup.sh [VM_DIR]      (make camera-vm)
#
# Idempotent: when VM_DIR already holds both files built from the current init script and module
# list, it only checks that the host tools are there (well under a second). Missing tools are
# installed with apt (as root). The kernel package comes from `apt-get download` of the package
# linux-image-amd64 depends on, unpacked with `dpkg -x` (never installed on the host) and removed
# again once its modules are copied; the modules stay in VM_DIR/initrd so that a changed init
# script only repacks the initramfs.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VM_DIR=${1:-${VM_DIR:-.tools/camera-vm}}
mkdir -p "$VM_DIR"
VM_DIR=$(cd "$VM_DIR" && pwd)
# Load order matters (virtio first, vivid last); dependencies are added from modules.dep.
MODULES="virtio_pci 9pnet_virtio 9p virtio_net virtio-rng vivid"
STAMP="init $(sha256sum "$HERE/init" | cut -d' ' -f1) modules $MODULES"

say() { echo "camera-vm: $*"; }

# --- 1. Host tools (the guest uses the host's own copies through the 9p root share).
declare -A PACKAGE=(
  [qemu-system-x86_64]=qemu-system-x86 [cpio]=cpio [depmod]=kmod [v4l2-ctl]=v4l-utils
  [ffmpeg]=ffmpeg [flock]=util-linux
)
missing=()
for tool in "${!PACKAGE[@]}"; do command -v "$tool" >/dev/null || missing+=("${PACKAGE[$tool]}"); done
# The initramfs has no libc: its busybox must be the static one.
if ! dpkg -s busybox-static >/dev/null 2>&1 &&
   ! { [ -x /bin/busybox ] && ldd /bin/busybox 2>&1 | grep -q 'not a dynamic'; }; then
  missing+=(busybox-static)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing packages: ${missing[*]}; run as root, or: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- 2. Up to date already?
if [ -f "$VM_DIR/vmlinuz" ] && [ -f "$VM_DIR/initrd.cpio.gz" ] && [ -f "$VM_DIR/build.stamp" ] &&
   [ "$(cat "$VM_DIR/build.stamp")" = "$STAMP" ]; then
  exit 0
fi

# --- 3. Kernel and modules, unless a previous build left them (same module list).
TREE=$VM_DIR/initrd
if ! [ -f "$VM_DIR/vmlinuz" ] || ! [ -f "$TREE/modules.load" ] ||
   [ "$(cat "$TREE/modules.want" 2>/dev/null)" != "$MODULES" ]; then
  WORK=$VM_DIR/kernel-work
  rm -rf "$WORK" "$TREE"
  mkdir -p "$WORK"
  # apt's download user must be able to write there (else apt warns and downloads as root).
  chmod a+rwx "$WORK"
  trap 'rm -rf "$WORK"' EXIT
  pkg_of() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}'; }
  PKG=$(pkg_of)
  if [ -z "$PKG" ]; then
    [ "$(id -u)" = 0 ] || { say "apt knows no linux-image-amd64; run as root (apt-get update)" >&2; exit 1; }
    apt-get update -qq
    PKG=$(pkg_of)
  fi
  [ -n "$PKG" ] || { say "cannot find the kernel package linux-image-amd64 depends on" >&2; exit 1; }
  say "downloading $PKG (about 70 MB)"
  (cd "$WORK" && apt-get download -qq "$PKG")
  dpkg -x "$WORK"/"$PKG"_*.deb "$WORK/root"
  KVER=$(ls "$WORK/root/lib/modules" | head -n 1)
  SRC=$WORK/root/lib/modules/$KVER
  # The .deb ships no modules.dep (its postinst would make it).
  depmod -b "$WORK/root" "$KVER"
  mkdir -p "$TREE"/{bin,proc,sys,dev,mnt/root,lib/modules/"$KVER"}
  # Each wanted module after its dependencies, from modules.dep.
  declare -A seen=()
  order=()
  path_of() {
    awk -F: -v n="/$1.ko" 'substr($1, length($1) - length(n) + 1) == n { print $1; exit }' \
      "$SRC/modules.dep"
  }
  visit() {
    local p=$1 d
    [ -n "${seen[$p]:-}" ] && return
    seen[$p]=1
    for d in $(awk -F: -v p="$p" '$1 == p { print $2 }' "$SRC/modules.dep"); do visit "$d"; done
    order+=("$p")
  }
  for m in $MODULES; do
    p=$(path_of "$m")
    [ -n "$p" ] || { say "the kernel $KVER has no module $m" >&2; exit 1; }
    visit "$p"
  done
  : >"$TREE/modules.load"
  for p in "${order[@]}"; do
    mkdir -p "$TREE/lib/modules/$KVER/$(dirname "$p")"
    cp "$SRC/$p" "$TREE/lib/modules/$KVER/$p"
    echo "$p" >>"$TREE/modules.load"
  done
  cp "$SRC"/modules.{order,builtin,builtin.modinfo} "$TREE/lib/modules/$KVER/"
  # A modules.dep of its own, so that the guest's modprobe finds vivid again after rmmod.
  depmod -b "$TREE" "$KVER"
  cp "$WORK/root/boot/vmlinuz-$KVER" "$VM_DIR/vmlinuz"
  echo "$MODULES" >"$TREE/modules.want"
  rm -rf "$WORK"
  trap - EXIT
  say "kernel $KVER, ${#order[@]} modules"
fi

# --- 4. The initramfs: busybox, the modules, the init script.
cp /bin/busybox "$TREE/bin/busybox"
cp "$HERE/init" "$TREE/init"
chmod +x "$TREE/init"
(cd "$TREE" && find . ! -name modules.want | cpio -o -H newc --quiet) | gzip -1 >"$VM_DIR/initrd.cpio.gz.new"
mv "$VM_DIR/initrd.cpio.gz.new" "$VM_DIR/initrd.cpio.gz"
echo "$STAMP" >"$VM_DIR/build.stamp"
say "ready in $VM_DIR ($(du -sh "$VM_DIR" | cut -f1))"
