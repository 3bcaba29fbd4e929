#!/usr/bin/env bash
# Starts and stops private container runtimes for the integration tests, without
# touching the host's network or anything under /etc (see shared/runtime/README.md):
# dockerd with vfs, no iptables, no bridge, its own socket/data/exec/pid under a
# state directory, podman (runc, cgroupfs, no network) configured through files
# named by environment variables, and containerd with its own config, root, state
# and socket (CRI plugin off: the tests drive it with ctr as kubelet would via CRI).
#
#   scripts/runtime-env.sh start [docker|podman|containerd|all]   prints `export VAR=...`
#   scripts/runtime-env.sh stop                                     stops what start started
#   eval "$(scripts/runtime-env.sh start)"
#
# Docker's storage driver: $CDRIFT_RT_DOCKER_DRIVER, vfs (the default) or overlay2 (live
# audits read the container's writable layer, which only overlay storage has).
#
# State directory: $CDRIFT_RT_DIR (default /tmp/cdrift-rt). `start` exits non-zero,
# after cleaning up, when a requested runtime cannot start; its reason is on stderr.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir=${CDRIFT_RT_DIR:-/tmp/cdrift-rt}
sock="$dir/docker/docker.sock"
pidfile="$dir/docker/docker.pid"
ready_timeout=${CDRIFT_RT_READY_TIMEOUT:-30}
docker_driver=${CDRIFT_RT_DOCKER_DRIVER:-vfs}

log() { echo "runtime-env: $*" >&2; }

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Sends TERM to one PID, then KILL if it has not gone after `grace` seconds.
stop_pid() {
  local pid=$1 grace=${2:-10} i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < grace * 10; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  log "PID $pid did not stop after ${grace}s; killing it"
  kill -KILL "$pid" 2>/dev/null
  sleep 0.2
}

podman_env() {
  export CONTAINERS_CONF="$dir/podman/containers.conf"
  export CONTAINERS_STORAGE_CONF="$dir/podman/storage.conf"
  export TMPDIR="$dir/podman/tmp"
}

start_docker() {
  command -v dockerd >/dev/null || { log "dockerd: not installed"; return 1; }
  command -v docker >/dev/null || { log "docker: not installed"; return 1; }
  case "$docker_driver" in
    vfs | overlay2) ;;
    *) log "CDRIFT_RT_DOCKER_DRIVER: $docker_driver is not vfs or overlay2"; return 1 ;;
  esac
  mkdir -p "$dir/docker" && chmod 0700 "$dir/docker"
  local pid=""
  [ -f "$pidfile" ] && pid=$(cat "$pidfile" 2>/dev/null)
  if ! alive "$pid"; then
    rm -f "$pidfile" "$sock"
    # Same process group as the caller: a test run killed as a group takes its
    # daemon along instead of leaving it running forever.
    dockerd --storage-driver "$docker_driver" --iptables=false --ip-masq=false --bridge=none \
      -H "unix://$sock" --data-root "$dir/docker/root" --exec-root "$dir/docker/exec" \
      --pidfile "$pidfile" </dev/null >"$dir/docker/dockerd.log" 2>&1 &
    local launched=$!
    echo "$launched" >"$dir/docker/launched.pid"
  fi
  local i
  for ((i = 0; i < ready_timeout * 10; i++)); do
    if docker -H "unix://$sock" version >/dev/null 2>&1; then
      # A daemon left running from an earlier start keeps its driver: say so rather
      # than let a test read the wrong storage.
      local running
      running=$(docker -H "unix://$sock" info --format '{{.Driver}}' 2>/dev/null)
      if [ -n "$running" ] && [ "$running" != "$docker_driver" ]; then
        log "dockerd under $dir runs storage driver $running, not $docker_driver; stop it first"
        return 1
      fi
      echo "export DOCKER_HOST=unix://$sock"
      return 0
    fi
    if [ -f "$dir/docker/launched.pid" ] && ! alive "$(cat "$dir/docker/launched.pid")"; then
      break
    fi
    sleep 0.1
  done
  log "dockerd did not become ready; last lines of $dir/docker/dockerd.log:"
  tail -n 5 "$dir/docker/dockerd.log" >&2 2>/dev/null
  stop_docker
  return 1
}

stop_docker() {
  local pid=""
  [ -f "$pidfile" ] && pid=$(cat "$pidfile" 2>/dev/null)
  alive "$pid" || { [ -f "$dir/docker/launched.pid" ] && pid=$(cat "$dir/docker/launched.pid"); }
  if alive "$pid"; then
    # Containers first, so dockerd's shutdown does not wait on their stop timeouts.
    local ids
    ids=$(timeout 20 docker -H "unix://$sock" ps -aq 2>/dev/null)
    [ -n "$ids" ] && timeout 60 docker -H "unix://$sock" rm -f $ids >/dev/null 2>&1
    stop_pid "$pid" 15
  fi
  # dockerd's own containerd, when it outlived a killed dockerd.
  local cpid
  for f in "$dir/docker/exec/containerd/containerd.pid"; do
    [ -f "$f" ] && cpid=$(cat "$f" 2>/dev/null) && stop_pid "$cpid" 5
  done
  rm -f "$pidfile" "$dir/docker/launched.pid" "$sock"
}

start_podman() {
  command -v podman >/dev/null || { log "podman: not installed"; return 1; }
  command -v runc >/dev/null || { log "runc: not installed"; return 1; }
  mkdir -p "$dir/podman/tmp" && chmod 0700 "$dir/podman"
  # No process can raise an rlimit above its hard limit here (no CAP_SYS_RESOURCE).
  local nofile
  nofile=$(ulimit -Hn)
  [ "$nofile" = unlimited ] && nofile=1048576
  cat >"$dir/podman/containers.conf" <<CONF
[containers]
netns = "none"
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  cat >"$dir/podman/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$dir/podman/root"
runroot = "$dir/podman/run"
CONF
  podman_env
  local err
  if ! err=$(timeout 60 podman info 2>&1 >/dev/null); then
    log "podman info failed: $(echo "$err" | tail -n 3)"
    return 1
  fi
  echo "export CONTAINERS_CONF=$CONTAINERS_CONF"
  echo "export CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF"
  echo "export TMPDIR=$TMPDIR"
}

stop_podman() {
  [ -f "$dir/podman/containers.conf" ] || return 0
  command -v podman >/dev/null || return 0
  (
    podman_env
    timeout 60 podman rm -af -t 0 >/dev/null 2>&1
  )
  return 0
}

# containerd is not part of `all`: only the containerd tests want it, and it is one
# more daemon on a 2-core machine. runc keeps its state host-wide
# (/run/containerd/runc/NS/ID) unless told otherwise: give `ctr run --runc-root
# $CDRIFT_CONTAINERD_STATE/runc` so that two containerds never clash on an id.
ctd="$dir/containerd"
start_containerd() {
  command -v containerd >/dev/null || { log "containerd: not installed"; return 1; }
  command -v ctr >/dev/null || { log "ctr: not installed"; return 1; }
  mkdir -p "$ctd" && chmod 0700 "$ctd"
  local pid=""
  [ -f "$ctd/containerd.pid" ] && pid=$(cat "$ctd/containerd.pid" 2>/dev/null)
  if ! alive "$pid"; then
    rm -f "$ctd/containerd.sock" "$ctd/containerd.sock.ttrpc" "$ctd/debug.sock"
    cat >"$ctd/config.toml" <<CONF
version = 2
root = "$ctd/root"
state = "$ctd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$ctd/containerd.sock"
[ttrpc]
  address = "$ctd/containerd.sock.ttrpc"
[debug]
  address = "$ctd/debug.sock"
[metrics]
  address = ""
CONF
    # Same process group as the caller, like dockerd above.
    containerd --config "$ctd/config.toml" </dev/null >"$ctd/containerd.log" 2>&1 &
    echo $! >"$ctd/containerd.pid"
  fi
  local i
  for ((i = 0; i < ready_timeout * 10; i++)); do
    if ctr --address "$ctd/containerd.sock" version >/dev/null 2>&1; then
      echo "export CONTAINERD_ADDRESS=$ctd/containerd.sock"
      echo "export CDRIFT_CONTAINERD_ROOT=$ctd/root"
      echo "export CDRIFT_CONTAINERD_STATE=$ctd/state"
      return 0
    fi
    alive "$(cat "$ctd/containerd.pid" 2>/dev/null)" || break
    sleep 0.1
  done
  log "containerd did not become ready; last lines of $ctd/containerd.log:"
  tail -n 5 "$ctd/containerd.log" >&2 2>/dev/null
  stop_containerd
  return 1
}

stop_containerd() {
  [ -f "$ctd/containerd.pid" ] || return 0
  local pid a=(--address "$ctd/containerd.sock") ns id
  pid=$(cat "$ctd/containerd.pid" 2>/dev/null)
  if alive "$pid"; then
    # Tasks first: their shims outlive containerd and keep the overlay mounts.
    for ns in $(timeout 20 ctr "${a[@]}" namespaces ls -q 2>/dev/null); do
      for id in $(timeout 20 ctr "${a[@]}" -n "$ns" tasks ls -q 2>/dev/null); do
        timeout 20 ctr "${a[@]}" -n "$ns" tasks kill -s KILL "$id" >/dev/null 2>&1
      done
      for id in $(timeout 20 ctr "${a[@]}" -n "$ns" containers ls -q 2>/dev/null); do
        timeout 30 ctr "${a[@]}" -n "$ns" tasks rm -f "$id" >/dev/null 2>&1
        timeout 30 ctr "${a[@]}" -n "$ns" containers rm "$id" >/dev/null 2>&1
      done
    done
    stop_pid "$pid" 15
  fi
  rm -f "$ctd/containerd.pid" "$ctd/containerd.sock" "$ctd/containerd.sock.ttrpc" "$ctd/debug.sock"
}

cmd=${1:-}
what=${2:-all}
case "$cmd" in
  start)
    case "$what" in docker | podman | containerd | all) ;; *) log "unknown runtime $what"; exit 2 ;; esac
    if ! "$root/scripts/deps.sh" --runtime >&2; then
      log "installing the runtimes failed"
      exit 1
    fi
    mkdir -p "$dir" && chmod 0700 "$dir"
    rc=0
    if [ "$what" = docker ] || [ "$what" = all ]; then start_docker || rc=1; fi
    if [ "$what" = podman ] || [ "$what" = all ]; then start_podman || rc=1; fi
    if [ "$what" = containerd ]; then start_containerd || rc=1; fi
    exit $rc
    ;;
  stop)
    stop_containerd
    stop_podman
    stop_docker
    exit 0
    ;;
  *)
    echo "usage: $0 start [docker|podman|containerd|all] | stop" >&2
    exit 2
    ;;
esac
