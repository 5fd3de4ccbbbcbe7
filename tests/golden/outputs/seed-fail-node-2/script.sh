#!/usr/bin/env bash
# Steps for cluster seed: recovery after failure of node-2: optimal, 6 steps.
# Written by `placement plan --format script`. Every order and prefix of these steps was
# model-checked safe; the commands run in the order of their estimated start.
# Estimated at 10 Gbit/s per node: full replication after 64 s, all done after 64 s.
# Dry run unless given --apply.
NAMESPACE=kafka
BOOTSTRAP=localhost:9092
DEFAULT_WAIT_TIMEOUT=857
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: SCRIPT [--apply]
  (no option)  dry run: print every command, run nothing
  --apply      perform the plan
environment: PLACEMENT_WAIT_TIMEOUT (seconds per wait), PLACEMENT_POLL_SECONDS (between polls)
USAGE
}

APPLY=0
for arg in "$@"; do
  case "$arg" in
    --apply) APPLY=1 ;;
    -h|--help) usage; exit 0 ;;
    *) printf 'unknown argument %q\n' "$arg" >&2; usage >&2; exit 2 ;;
  esac
done
WAIT_TIMEOUT="${PLACEMENT_WAIT_TIMEOUT:-$DEFAULT_WAIT_TIMEOUT}"
POLL_SECONDS="${PLACEMENT_POLL_SECONDS:-10}"
[[ "$WAIT_TIMEOUT" =~ ^[0-9]+$ && "$POLL_SECONDS" =~ ^[0-9]+$ ]] || {
  echo "PLACEMENT_WAIT_TIMEOUT and PLACEMENT_POLL_SECONDS must be whole numbers of seconds" >&2; exit 2; }
WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/placement.XXXXXX")"

run() {
  printf '+'; printf ' %q' "$@"; printf '\n'
  if [[ "$APPLY" == 1 ]]; then "$@"; fi
}

wait_until() {
  local what="$1"; shift
  if [[ "$APPLY" != 1 ]]; then printf '# then wait until %s\n' "$what"; return 0; fi
  local deadline=$((SECONDS + WAIT_TIMEOUT))
  until "$@"; do
    if (( SECONDS >= deadline )); then
      printf 'timed out after %s s waiting until %s; nothing after this was done\n' "$WAIT_TIMEOUT" "$what" >&2
      exit 1
    fi
    sleep "$POLL_SECONDS"
  done
  printf '# done: %s\n' "$what"
}

node_down() {
  local ready
  ready="$(kubectl get node -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' -- "$1")" || return 1
  [[ "$ready" != "True" ]]
}

resync_done() {
  local out
  out="$(pxctl volume inspect -- "$1")" || return 1
  grep -Eq 'Replication Status[[:space:]]*:[[:space:]]*Up' <<<"$out"
}

pod_serves_on() {
  local got
  got="$(kubectl -n "$NAMESPACE" get pod -o 'jsonpath={.spec.nodeName} {.status.conditions[?(@.type=="Ready")].status}' -- "$1")" || return 1
  if [[ "$got" == "$2 True" ]]; then return 0; fi
  if [[ -n "$got" && "${got%% *}" != "$2" ]]; then
    printf 'pod %s was scheduled on %s, not on %s as planned; stopping here\n' "$1" "${got%% *}" "$2" >&2
    exit 1
  fi
  return 1
}

reassignment_done() {
  local out
  out="$(kafka-reassign-partitions.sh --bootstrap-server "$BOOTSTRAP" --reassignment-json-file "$1" --verify)" || return 1
  ! grep -Eqi 'in progress|failed' <<<"$out"
}

# step 1: fence-node
wait_until 'node node-2 is down (power it off first: fencing a running node corrupts data)' node_down node-2
run kubectl cordon -- node-2
run kubectl taint nodes --overwrite -- node-2 node.kubernetes.io/out-of-service=nodeshutdown:NoExecute

# step 2: drop-volume-replica (after 1)
run pxctl volume ha-update --repl 2 --node node-2 -- pvc-kafka-0

# step 3: add-volume-replica (after 2)
# Portworx resyncs it from an in-sync replica (planned source: node-1)
run pxctl volume ha-update --repl 3 --node node-5 -- pvc-kafka-0

# step 4: drop-volume-replica (after 1)
run pxctl volume ha-update --repl 2 --node node-2 -- pvc-kafka-1

# step 5: add-volume-replica (after 4)
# Portworx resyncs it from an in-sync replica (planned source: node-3)
run pxctl volume ha-update --repl 3 --node node-5 -- pvc-kafka-1

# step 6: move-broker (after 1)
# broker 1: node-2 -> node-4; Stork schedules the pod onto a node holding its replicas
run kubectl -n "$NAMESPACE" delete pod --force --grace-period=0 -- kafka-1

# every step issued: wait for what is still under way
wait_until 'pod kafka-1 serves on node-4' pod_serves_on kafka-1 node-4
wait_until 'volume pvc-kafka-1 is in sync on node-5' resync_done pvc-kafka-1
wait_until 'volume pvc-kafka-0 is in sync on node-5' resync_done pvc-kafka-0
if [[ "$APPLY" == 1 ]]; then
  printf '# recovery complete; the Kafka JSON files it used are in %s\n' "$WORKDIR"
else
  rm -rf -- "$WORKDIR"
  echo "# dry run: nothing was changed; run with --apply to perform it"
fi
