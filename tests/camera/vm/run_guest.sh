#!/bin/bash
# Boots the camera test VM made by setup.sh (qemu, TCG: KVM hangs on these machines) and keeps it
# running until it powers off, this script is signalled, TC_WATCH_PID exits or TIMEOUT passes:
# qemu never outlives the test run that started it. tests/camera/camera_vm.ts calls it; it can
# also be run by hand to look at the guest (the agent answers on 127.0.0.1:AGENT_HOST_PORT).
#
# Environment:
#   VM_DIR          vmlinuz and initrd.cpio.gz (required)
#   TC_FORWARDS     "HOSTPORT:GUESTPORT ..." TCP forwards from 127.0.0.1 on the host to the guest
#   TC_SHARES       host directories shared read-only at the same paths, colon-separated
#   TC_DENO TC_DENO_DIR TC_AGENT TC_AGENT_PORT   the guest agent (see init)
#   TC_SERIAL_LOG   file for the guest's console (default: stdout)
#   TC_WATCH_PID    stop when this process is gone
#   TIMEOUT         seconds before qemu is killed regardless (default 900)
set -uo pipefail
: "${VM_DIR:?VM_DIR must name the directory setup.sh prepared}"
for f in vmlinuz initrd.cpio.gz; do
  [ -f "$VM_DIR/$f" ] || { echo "run_guest: no $VM_DIR/$f (make camera-vm)" >&2; exit 2; }
done
for v in "${TC_SHARES:-}" "${TC_DENO:-}" "${TC_DENO_DIR:-}" "${TC_AGENT:-}"; do
  case "$v" in *[[:space:]]*) echo "run_guest: no spaces allowed in '$v' (kernel command line)" >&2; exit 2 ;; esac
done
fwd=""
for f in ${TC_FORWARDS:-}; do fwd+=",hostfwd=tcp:127.0.0.1:${f%%:*}-:${f##*:}"; done
shares=()
i=0
IFS=: read -r -a dirs <<<"${TC_SHARES:-}"
for d in "${dirs[@]}"; do
  shares+=(-fsdev "local,id=f$i,path=$d,security_model=none,readonly=on,multidevs=remap"
    -device "virtio-9p-pci,fsdev=f$i,mount_tag=s$i")
  i=$((i + 1))
done
serial=(-serial stdio)
[ -n "${TC_SERIAL_LOG:-}" ] && serial=(-serial "file:$TC_SERIAL_LOG")
append="console=ttyS0 quiet loglevel=3 panic=-1 TC_SHARES=${TC_SHARES:-} TC_DENO=${TC_DENO:-}"
append+=" TC_DENO_DIR=${TC_DENO_DIR:-} TC_AGENT=${TC_AGENT:-} TC_AGENT_PORT=${TC_AGENT_PORT:-7000}"

# restrict=on: the guest reaches nothing outside; only the forwards reach it.
qemu-system-x86_64 -no-user-config -nodefaults \
  -accel tcg,thread=multi -cpu max -smp "${TC_SMP:-2}" -m 2048 \
  -kernel "$VM_DIR/vmlinuz" -initrd "$VM_DIR/initrd.cpio.gz" -append "$append" \
  -display none -monitor none -no-reboot "${serial[@]}" \
  -fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
  -device virtio-9p-pci,fsdev=root,mount_tag=hostroot \
  "${shares[@]}" \
  -device virtio-rng-pci \
  -netdev "user,id=n0,restrict=on$fwd" -device virtio-net-pci,netdev=n0 \
  </dev/null &
QEMU=$!
stop() { kill -KILL "$QEMU" 2>/dev/null; wait "$QEMU" 2>/dev/null; }
trap 'stop; exit 143' TERM INT HUP
trap stop EXIT
deadline=$((SECONDS + ${TIMEOUT:-900}))
while kill -0 "$QEMU" 2>/dev/null; do
  if [ -n "${TC_WATCH_PID:-}" ] && ! kill -0 "$TC_WATCH_PID" 2>/dev/null; then
    echo "run_guest: process $TC_WATCH_PID is gone; stopping the VM" >&2
    break
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "run_guest: ${TIMEOUT:-900} s passed; stopping the VM" >&2
    break
  fi
  # A poll of the watched process, not a synchronisation: `wait` cannot watch a non-child.
  sleep 0.5
done
stop
exit 0
