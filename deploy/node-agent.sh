#!/bin/sh
# The DaemonSet's loop: `cdrift audit ARGS...` every $CDRIFT_INTERVAL seconds, JSON
# Lines on stdout for the node's log shipper, diagnostics on stderr.
#
#   cdrift-node-agent --all --runtime containerd --namespace k8s.io --format jsonl
#
# Exit 0 and 1 (drift found) are normal rounds. A configuration error (2) stops the
# agent, so the pod crash-loops visibly instead of auditing nothing forever. An
# input or runtime error (3: containerd down, a corrupt blob) is logged and retried
# next round; the "error" lines on stdout already name what failed. CDRIFT_BIN
# names another cdrift binary (the tests use it).
set -u
interval=${CDRIFT_INTERVAL:-3600}
case "$interval" in
  '' | *[!0-9]*)
    echo "cdrift-node-agent: CDRIFT_INTERVAL must be whole seconds, got '$interval'" >&2
    exit 2
    ;;
esac
# PID 1 ignores signals it has no handler for: without this trap the pod would wait
# for its grace period to run out on every rollout.
sleeper=""
trap '[ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null; exit 0' TERM INT
while :; do
  "${CDRIFT_BIN:-/usr/local/bin/cdrift}" audit "$@"
  rc=$?
  case $rc in
    0 | 1) ;;
    2)
      echo "cdrift-node-agent: cdrift exited 2 (usage or configuration); stopping" >&2
      exit 2
      ;;
    3) echo "cdrift-node-agent: cdrift exited 3 (input or runtime error); next round in ${interval}s" >&2 ;;
    *)
      echo "cdrift-node-agent: cdrift exited $rc (internal error); stopping" >&2
      exit "$rc"
      ;;
  esac
  sleep "$interval" &
  sleeper=$!
  wait "$sleeper"
  sleeper=""
done
