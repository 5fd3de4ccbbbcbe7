"""``--format script``: a bash script that performs a plan's steps.

Dry run by default (prints each command, runs nothing); ``--apply`` performs them -- only
where the model checker proved every order and prefix of the steps safe: a script of steps
not proven safe (a negative verdict, "never a plan to run") shows them in its dry run and
refuses ``--apply``, saying why, with exit status 1.
Each step becomes ``kubectl`` / ``pxctl`` / ``kafka-*.sh`` commands. Resyncs,
pod moves and reassignments run in the background of the cluster; the script
waits for one (polling, with a timeout) only just before a step that needs it,
so independent resyncs overlap as in ``placement.execute.timeline``. Steps come in the
order of their estimated start.

Nothing the cluster file says reaches a shell line unquoted, not even a comment: names
were refused at load time unless they are valid Kubernetes, Portworx or Kafka names, and
besides every user-derived word -- in commands and in comments alike -- is quoted by
``_word`` (plain when it is made of safe characters, ``shlex.quote``d when printable,
bash's ``$'...'`` with every control character escaped otherwise, so that no name can
end a line), positional arguments follow ``--``, and Kafka JSON goes to files through
quoted here-documents (never expanded, never echoed into a command).
"""
from __future__ import annotations

import json
import math
import re
import shlex
from placement.execute.timeline import simulate
from placement.models.cluster import Cluster
from placement.models.errors import InputError, InternalError, Problem
from placement.models.failures import Failures
from placement.models.plan import Plan, Step
from placement.scenario import Scenario

OUT_OF_SERVICE = "node.kubernetes.io/out-of-service=nodeshutdown:NoExecute"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
BOOTSTRAP = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?:[0-9]{1,5}(,[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?:[0-9]{1,5})*$")
JSON_END = "PLACEMENT_JSON_END"
MAX_WAIT_SECONDS = 30 * 24 * 3600  # the default wait for one step, however slow the estimate


def check_script_options(namespace: str, statefulset: str, bootstrap: str) -> None:
    problems = []
    if not DNS_LABEL.match(namespace):
        problems.append(Problem("--namespace", f"{namespace!r} is not a Kubernetes namespace (a DNS-1123 label)"))
    if not DNS_LABEL.match(statefulset) or len(statefulset) > 52:
        problems.append(Problem("--statefulset", f"{statefulset!r} is not a StatefulSet name whose pods can be named "
                                "(a DNS-1123 label of at most 52 characters)"))
    if not BOOTSTRAP.match(bootstrap):
        problems.append(Problem("--bootstrap-server", f"{bootstrap!r} is not a list of host:port separated by commas"))
    if problems:
        raise InputError("command line", problems)


_PLAIN = re.compile(r"[A-Za-z0-9_./:=@%+,-]+")


def _word(text: str) -> str:
    """One shell word, on one line, that bash reads back as exactly ``text``."""
    if _PLAIN.fullmatch(text):
        return text
    if text.isprintable():
        return shlex.quote(text)
    escaped = []
    for ch in text:
        if ch in "\\'":
            escaped.append("\\" + ch)
        elif ch.isprintable():
            escaped.append(ch)
        else:
            escaped.extend(f"\\x{b:02x}" for b in ch.encode("utf-8"))
    return "$'" + "".join(escaped) + "'"


def _q(*words) -> str:
    """Words for a command line or a comment: each quoted by ``_word``."""
    return " ".join(_word(str(w)) for w in words)


PRELUDE = r'''set -euo pipefail

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
'''


class _Writer:
    def __init__(self, cluster: Cluster, plan: Plan, statefulset: str, finish: dict[int, float]):
        self.finish = finish  # estimated finish of each step: waits come in that order
        self.cluster = cluster
        self.plan = plan
        self.statefulset = statefulset
        self.lines: list[str] = []
        self.pending: dict[int, str] = {}  # step id -> the wait that completes it
        self.replicas = {v.name: len(v.replicas) for v in cluster.volumes}  # Portworx's HA level as it goes

    def emit(self, *lines: str) -> None:
        self.lines.extend(lines)

    def wait_for(self, sids) -> None:
        for sid in sorted(sids, key=lambda sid: (self.finish.get(sid, 0.0), sid)):
            if sid in self.pending:
                self.emit(self.pending.pop(sid))

    def pod(self, broker: int) -> str:
        return f"{self.statefulset}-{broker}"

    def step(self, s: Step) -> None:
        self.wait_for(s.after)
        a = s.args
        self.emit("", f"# step {s.id}: {s.action}" + (f" (after {', '.join(map(str, s.after))})" if s.after else ""))
        if s.action == "fence-node":
            node = a["node"]
            what = f"node {node} is down (power it off first: fencing a running node corrupts data)"
            self.emit(f"wait_until {_q(what)} node_down {_q(node)}",
                      f"run kubectl cordon -- {_q(node)}",
                      f"run kubectl taint nodes --overwrite -- {_q(node, OUT_OF_SERVICE)}")
        elif s.action == "cordon-node":
            self.emit(f"# drain {_q(a['node'])}: Kubernetes schedules nothing new there; the steps below empty it",
                      f"run kubectl cordon -- {_q(a['node'])}")
        elif s.action == "drop-volume-replica":
            self.replicas[a["volume"]] -= 1
            self.emit(f"run pxctl volume ha-update --repl {self.replicas[a['volume']]} --node {_q(a['node'])} -- {_q(a['volume'])}")
        elif s.action == "add-volume-replica":
            self.replicas[a["volume"]] += 1
            self.emit(f"# Portworx resyncs it from an in-sync replica (planned source: {_q(a['source'])})",
                      f"run pxctl volume ha-update --repl {self.replicas[a['volume']]} --node {_q(a['node'])} -- {_q(a['volume'])}")
            what = f"volume {a['volume']} is in sync on {a['node']}"
            self.pending[s.id] = f"wait_until {_q(what)} resync_done {_q(a['volume'])}"
        elif s.action == "resync-volume-replica":
            self.emit(f"# the replica of {_q(a['volume'])} on {_q(a['node'])} is back but behind: Portworx resyncs it "
                      "by itself (nothing to run); the steps that need it wait for it")
            what = f"Portworx has resynced volume {a['volume']} on {a['node']}"
            self.pending[s.id] = f"wait_until {_q(what)} resync_done {_q(a['volume'])}"
        elif s.action == "move-broker":
            pod, failed = self.pod(a["broker"]), a["from"] in self.plan.failed
            force = " --force --grace-period=0" if failed else ""
            self.emit(f"# broker {a['broker']}: {_q(a['from'])} -> {_q(a['to'])}; Stork schedules the pod onto a node "
                      "holding its replicas",
                      f"run kubectl -n \"$NAMESPACE\" delete pod{force} -- {_q(pod)}")
            what = f"pod {pod} serves on {a['to']}"
            self.pending[s.id] = f"wait_until {_q(what)} pod_serves_on {_q(pod, a['to'])}"
        elif s.action == "reassign-partitions":
            path = f"$WORKDIR/reassign-{s.id}.json"
            body = {"version": 1, "partitions": [{"topic": e["topic"], "partition": e["partition"],
                                                  "replicas": list(e["replicas"])} for e in a["partitions"]]}
            self._json(path, body)
            self.emit(f'run kafka-reassign-partitions.sh --bootstrap-server "$BOOTSTRAP" '
                      f'--reassignment-json-file "{path}" --execute')
            what = f"the reassignment of step {s.id} completes"
            self.pending[s.id] = f'wait_until {_q(what)} reassignment_done "{path}"'
        elif s.action == "elect-leaders":
            targets = {(t.topic, t.partition): t for t in self.plan.placement.partitions.values()}
            preferred = [e for e in a["partitions"] if targets[e["topic"], e["partition"]].replicas[:1] == (e["leader"],)]
            others = [e for e in a["partitions"] if e not in preferred]
            if preferred:
                path = f"$WORKDIR/elect-{s.id}.json"
                self._json(path, {"partitions": [{"topic": e["topic"], "partition": e["partition"]} for e in preferred]})
                self.emit(f'run kafka-leader-election.sh --bootstrap-server "$BOOTSTRAP" --election-type PREFERRED '
                          f'--path-to-json-file "{path}"')
            for e in others:
                self.emit(f"# {_q(e['topic'])} partition {e['partition']}: leader {e['leader']} is not its preferred "
                          "replica; Kafka's controller elects among the in-sync replicas")
        else:  # pragma: no cover - parse_steps admits no other action
            raise ValueError(f"unknown action {s.action}")

    def _json(self, path: str, body: dict) -> None:
        text = json.dumps(body, indent=2)
        if JSON_END in text.splitlines():  # cannot happen: every JSON line is indented or a bracket
            raise InternalError("a Kafka JSON line would end its here-document")
        self.emit(f"cat > \"{path}\" <<'{JSON_END}'", text, JSON_END)


def render_script(cluster: Cluster, plan: Plan, *, namespace: str = "kafka",
                  statefulset: str = "kafka", bootstrap: str = "localhost:9092") -> str:
    """The plan as a bash script; ``namespace``/``statefulset`` name the broker pods
    (``STATEFULSET-ID``), ``bootstrap`` is what the Kafka tools connect to."""
    check_script_options(namespace, statefulset, bootstrap)
    timeline = plan.timeline
    if timeline is None:
        scenario = Scenario(cluster, Failures(frozenset(plan.failed), frozenset(plan.removed_brokers)),
                            allow_unclean=plan.allow_unclean)
        timeline = simulate(scenario, plan.placement, plan.steps)
    w = _Writer(cluster, plan, statefulset, timeline.finished)
    proven = (plan.metrics.get("execution") or {}).get("safe", True)
    header = [
        "#!/usr/bin/env bash",
        f"# Steps for cluster {_q(cluster.name)}: " + _operation_words(plan)
        + f": {plan.status.value}, {len(plan.steps)} steps.",
        "# Written by `placement plan --format script`. "
        + ("Every order and prefix of these steps was" if proven else "WARNING: these steps were NOT proven"),
        ("# model-checked safe" if proven else "# safe (see the plan's violations)")
        + "; the commands run in the order of their estimated start.",
        f"# Estimated at {timeline.bandwidth_gbps:g} Gbit/s per node: full replication after "
        f"{_secs(timeline.full_redundancy)}, all done after {_secs(timeline.finish)}.",
        "# Dry run unless given --apply.",
    ]
    if not plan.status.meets_invariants:
        header.append(f"# WARNING: this plan is {plan.status.value}: its target breaks invariants (see the plan).")
    wait_default = int(min(max(600.0, 4 * timeline.finish + 600), MAX_WAIT_SECONDS))
    w.emit(*header,
           f"NAMESPACE={_q(namespace)}",
           f"BOOTSTRAP={_q(bootstrap)}",
           f"DEFAULT_WAIT_TIMEOUT={wait_default}",
           PRELUDE.rstrip("\n"))
    if not proven:
        w.emit(*_refusal(plan))
    for s in _in_start_order(plan.steps, timeline.started):
        w.step(s)
    w.emit("", "# every step issued: wait for what is still under way")
    w.wait_for(list(w.pending))
    w.emit('if [[ "$APPLY" == 1 ]]; then',
           '  printf \'# recovery complete; the Kafka JSON files it used are in %s\\n\' "$WORKDIR"',
           'else',
           '  rm -rf -- "$WORKDIR"',
           '  echo "# dry run: nothing was changed; run with --apply to perform it"' if proven else
           '  echo "# dry run: nothing was changed; --apply is refused (these steps were NOT proven safe)"',
           'fi')
    return "\n".join(w.lines) + "\n"


MAX_REASONS = 10  # unsafe steps quoted in a refusal (the plan document lists them all)


def _refusal(plan: Plan) -> list[str]:
    """Steps not proven safe are never performed: --apply stops before anything runs and says why;
    the dry run shows the steps under the same warning."""
    reasons = [v.message for v in plan.violations if "cannot be made safe" in v.message] \
        or [v.message for v in plan.violations] or ["the execution model check did not prove them safe"]
    more = len(reasons) - MAX_REASONS
    lines = [f"  printf '  - %s\\n' {_q(r)}" for r in reasons[:MAX_REASONS]]
    if more > 0:
        lines.append(f"  printf '  ... and {more} more (see the plan document)\\n'")
    return [
        "",
        "# These steps were NOT proven safe: --apply is refused; the dry run only shows them.",
        "refuse_unsafe() {",
        "  printf '%s\\n' 'placement: these steps were NOT proven safe in every order and prefix, so this script' \\",
        "    'does not perform them (a negative verdict, never a plan to run). Why:'",
        *lines,
        "}",
        'if [[ "$APPLY" == 1 ]]; then',
        "  refuse_unsafe >&2",
        "  echo 'nothing was changed' >&2",
        '  rm -rf -- "$WORKDIR"',
        "  exit 1",
        "fi",
        "refuse_unsafe",
        "echo '# dry run of steps NOT proven safe: shown, never to be applied'",
    ]


def _operation_words(plan: Plan) -> str:
    parts = []
    if plan.failed:
        parts.append("recovery after failure of " + ", ".join(_word(n) for n in plan.failed))
    drained = getattr(plan, "drained", ())
    if drained:
        parts.append("drain of " + ", ".join(_word(n) for n in drained))
    percent = getattr(plan, "max_used_percent", None)
    if percent is not None:
        parts.append(f"rebalance to at most {percent:g}% used")
    if plan.removed_brokers:
        parts.append("retiring brokers " + ", ".join(map(str, plan.removed_brokers)))
    return ", ".join(parts) or "no failure (the cluster as the file describes it)"


def _secs(seconds: float) -> str:
    return f"{seconds:.0f} s" if math.isfinite(seconds) else "longer than can be estimated"


def _in_start_order(steps, started: dict[int, float]) -> list[Step]:
    """The steps in the order of their estimated start, each after every step it waits for
    (an instant step may start at the same moment as the step it waits for)."""
    import heapq

    by_id = {s.id: s for s in steps}
    waiting = {s.id: len(set(s.after)) for s in steps}
    children: dict[int, list[int]] = {s.id: [] for s in steps}
    for s in steps:
        for a in set(s.after):
            children[a].append(s.id)
    ready = [(started.get(sid, 0.0), sid) for sid, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, sid = heapq.heappop(ready)
        order.append(by_id[sid])
        for child in children[sid]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (started.get(child, 0.0), child))
    return order


__all__ = ["render_script", "check_script_options"]
