#!/usr/bin/env bash
# Steps for cluster seed: retiring brokers 2: optimal, 2 steps.
# Written by `placement plan --format script`. Every order and prefix of these steps was
# model-checked safe; the commands run in the order of their estimated start.
# Estimated at 10 Gbit/s per node: full replication after 0 s, all done after 9 s.
# Dry run unless given --apply.
NAMESPACE=kafka
BOOTSTRAP=localhost:9092
DEFAULT_WAIT_TIMEOUT=634
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

# step 1: reassign-partitions
cat > "$WORKDIR/reassign-1.json" <<'PLACEMENT_JSON_END'
{
  "version": 1,
  "partitions": [
    {
      "topic": "orders",
      "partition": 1,
      "replicas": [
        1,
        0
      ]
    },
    {
      "topic": "orders",
      "partition": 2,
      "replicas": [
        0,
        1
      ]
    }
  ]
}
PLACEMENT_JSON_END
run kafka-reassign-partitions.sh --bootstrap-server "$BOOTSTRAP" --reassignment-json-file "$WORKDIR/reassign-1.json" --execute
wait_until 'the reassignment of step 1 completes' reassignment_done "$WORKDIR/reassign-1.json"

# step 2: elect-leaders (after 1)
cat > "$WORKDIR/elect-2.json" <<'PLACEMENT_JSON_END'
{
  "partitions": [
    {
      "topic": "orders",
      "partition": 2
    }
  ]
}
PLACEMENT_JSON_END
run kafka-leader-election.sh --bootstrap-server "$BOOTSTRAP" --election-type PREFERRED --path-to-json-file "$WORKDIR/elect-2.json"

# every step issued: wait for what is still under way
if [[ "$APPLY" == 1 ]]; then
  printf '# recovery complete; the Kafka JSON files it used are in %s\n' "$WORKDIR"
else
  rm -rf -- "$WORKDIR"
  echo "# dry run: nothing was changed; run with --apply to perform it"
fi
