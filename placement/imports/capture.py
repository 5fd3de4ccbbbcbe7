"""``placement capture``: collect a cluster's state with kubectl, as ``import`` reads it.

It only reads: ``kubectl get`` (nodes, pods, claims, persistent volumes, and
Portworx StorageNodes where the resource exists) and ``kubectl exec`` into a
Portworx pod (``pxctl status``, ``pxctl --json cluster provision-status``,
``pxctl --json volume list``) and into a broker pod (``kafka-topics.sh
--describe``, ``kafka-log-dirs.sh --describe``). Every command has a timeout;
a missing tool, refused access or a timeout stops the capture with one
paragraph naming the command and what to do.
"""
from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from placement.models.errors import InputError, Problem
from placement.imports import kubernetes as k8s
from placement.imports.resolve import is_broker_pod

FILES = ("nodes.json", "pods.json", "pvc.json", "pv.json", "storagenodes.json", "px-status.txt",
         "px-provision-status.json", "px-volumes.json", "topics.txt", "logdirs.txt")
PXCTL = "/opt/pwx/bin/pxctl"
PORTWORX_PODS = "name=portworx"
# Finds a Kafka tool wherever the image keeps it (Apache/Strimzi, Bitnami, Confluent names it without .sh).
FIND_TOOL = ('tool="$1"; shift; for t in "$tool" "/opt/kafka/bin/$tool" "/opt/bitnami/kafka/bin/$tool" "${tool%.sh}"; do '
             'if command -v "$t" >/dev/null 2>&1; then exec "$t" "$@"; fi; done; '
             'echo "$tool: not found in this pod (looked on PATH, /opt/kafka/bin, /opt/bitnami/kafka/bin)" >&2; exit 127')


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


Runner = Callable[[Sequence[str], float], Completed]


def run_command(args: Sequence[str], timeout: float) -> Completed:
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return Completed(done.returncode, done.stdout, done.stderr)


@dataclass
class CaptureResult:
    directory: Path
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)


class _Capture:
    def __init__(self, out: Path, context: str | None, timeout: float, runner: Runner):
        self.out = out
        self.base = ["kubectl"] + (["--context", context] if context else [])
        self.timeout = timeout
        self.runner = runner
        self.result = CaptureResult(out)

    def kubectl(self, *args: str, optional_missing: str | None = None) -> str | None:
        cmd = self.base + list(args)
        shown = shlex.join(cmd)
        self.result.commands.append(cmd)
        try:
            done = self.runner(cmd, self.timeout)
        except FileNotFoundError:
            raise InputError("capture", Problem("kubectl", "is not on PATH; install kubectl and point it at the cluster "
                                                           "(kubectl config use-context, or --context)")) from None
        except subprocess.TimeoutExpired:
            raise InputError("capture", Problem(shown, f"did not finish within {self.timeout:g} s; check that the cluster "
                                                       "answers (kubectl get nodes) or give a longer --timeout")) from None
        except UnicodeDecodeError as exc:  # import reads UTF-8 only: refused here, naming the command, not later
            raise InputError("capture", Problem(shown, f"printed output that is not UTF-8 text (byte {exc.start}); placement "
                                                       "reads tool outputs as UTF-8: check the locale of the pod or tool")) from None
        except OSError as exc:  # a kubectl on PATH that is not executable, or not a program at all
            raise InputError("capture", Problem("kubectl", f"cannot be run: {exc.strerror or exc}; check the kubectl on "
                                                           "PATH (which kubectl)")) from None
        if done.returncode == 0:
            return done.stdout
        err = " ".join(done.stderr.split()) or f"exit status {done.returncode}"
        low = err.lower()
        if optional_missing and ("doesn't have a resource type" in low or "the server could not find the requested resource" in low):
            self.result.notes.append(optional_missing)
            return None
        if "forbidden" in low or "unauthorized" in low or "must be logged in" in low:
            raise InputError("capture", Problem(shown, f"access refused: {err}; capture needs get on nodes, pods, "
                                                       "persistentvolumeclaims and persistentvolumes, and create on pods/exec"))
        if done.returncode == 127 or "executable file not found" in low or "not found in this pod" in low or "no such file" in low:
            raise InputError("capture", Problem(shown, f"a tool is missing in the pod: {err}"))
        if "context was not found" in low or "does not exist" in low and "context" in low:
            raise InputError("capture", Problem(shown, f"{err}; name an existing context (kubectl config get-contexts)"))
        raise InputError("capture", Problem(shown, f"failed: {err}"))

    def write(self, name: str, text: str) -> None:
        try:
            (self.out / name).write_text(text, encoding="utf-8")
        except OSError as exc:  # a full disk: exit 2 naming the file, never a traceback
            raise InputError(str(self.out / name), Problem("-o", f"cannot be written: {exc.strerror or exc}")) from None
        self.result.files.append(name)


def _json(text: str, what: str) -> dict:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError("capture", Problem(what, f"kubectl printed something that is not JSON ({exc.msg})")) from None


def _running(pods: list[dict]) -> list[dict]:
    return [p for p in pods if k8s.field(k8s.field(p, "status", {}), "phase") == "Running"]


def _container(pod: dict, preferred: Sequence[str]) -> str | None:
    names = [k8s.field(c, "name") for c in k8s.field(k8s.field(pod, "spec", {}), "containers", []) or []]
    return next((n for n in preferred if n in names), names[0] if names else None)


def _prepare(out: Path) -> None:
    try:
        if out.exists() and not out.is_dir():
            raise InputError(str(out), Problem("-o", "exists and is not a directory; name a directory for the capture"))
        out.mkdir(parents=True, exist_ok=True)
        others = sorted(p.name for p in out.iterdir() if not p.name.startswith(".") and p.name not in FILES)
    except OSError as exc:  # a name too long, a read-only file system, no permission
        raise InputError(str(out), Problem("-o", f"cannot be used for the capture: {exc.strerror or exc}")) from None
    if others:
        raise InputError(str(out), Problem("-o", f"holds other files ({', '.join(others[:5])}), which import would read too; "
                                                 "capture into a new or empty directory"))


def capture(out: str | Path, *, context: str | None = None, namespace: str | None = None,
            portworx_namespace: str | None = None, bootstrap_server: str = "localhost:9092",
            timeout: float = 60.0, runner: Runner = run_command) -> CaptureResult:
    """Write the capture files into ``out``; raise InputError (exit 2) when a command fails."""
    from placement.models.arguments import Arguments

    args = Arguments("capture")
    out = args.path("out", out)
    context = args.text("context", context, optional=True, max_length=253)
    namespace = args.name("namespace", namespace, "namespace", optional=True)
    portworx_namespace = args.name("portworx_namespace", portworx_namespace, "namespace", optional=True)
    bootstrap_server = args.name("bootstrap_server", bootstrap_server, "bootstrap")
    timeout = args.number("timeout", timeout, 1, 86_400, unit="seconds")
    args.done()
    out = Path(out)
    _prepare(out)
    c = _Capture(out, context, timeout, runner)
    scope = ["-n", namespace] if namespace else ["--all-namespaces"]

    c.write("nodes.json", c.kubectl("get", "nodes", "-o", "json"))
    pods_text = c.kubectl("get", "pods", *scope, "-o", "json")
    c.write("pods.json", pods_text)
    c.write("pvc.json", c.kubectl("get", "persistentvolumeclaims", *scope, "-o", "json"))
    c.write("pv.json", c.kubectl("get", "persistentvolumes", "-o", "json"))

    px_scope = ["-n", portworx_namespace] if portworx_namespace else ["--all-namespaces"]
    px_pods = k8s.objects(_json(c.kubectl("get", "pods", *px_scope, "-l", PORTWORX_PODS, "-o", "json"), "Portworx pods"))
    px_running = sorted(_running(px_pods), key=lambda p: k8s.field(p["metadata"], "name"))
    if not px_running:
        where = f"in namespace {portworx_namespace}" if portworx_namespace else "in any namespace"
        raise InputError("capture", Problem("Portworx", f"no running Portworx pod (label {PORTWORX_PODS}) {where}; "
                                                        "give --portworx-namespace, or check that Portworx runs"))
    px_pod = px_running[0]
    px_ns = k8s.field(px_pod["metadata"], "namespace", "") or portworx_namespace or "kube-system"
    px_name = k8s.field(px_pod["metadata"], "name")
    storage_nodes = c.kubectl("get", "storagenodes.core.libopenstorage.org", "-n", px_ns, "-o", "json",
                              optional_missing="no StorageNode resource in this cluster (Portworx not installed by its operator); skipped")
    if storage_nodes is not None:
        c.write("storagenodes.json", storage_nodes)
    px_exec = ["exec", "-n", px_ns, px_name]
    container = _container(px_pod, ("portworx",))
    if container:
        px_exec += ["-c", container]
    c.write("px-status.txt", c.kubectl(*px_exec, "--", PXCTL, "status"))
    c.write("px-provision-status.json", c.kubectl(*px_exec, "--", PXCTL, "--json", "cluster", "provision-status"))
    c.write("px-volumes.json", c.kubectl(*px_exec, "--", PXCTL, "--json", "volume", "list"))

    pods = k8s.objects(_json(pods_text, "pods"))
    brokers = []
    for raw in _running(pods):
        rec = k8s.read_pod(raw, "pods.json")
        if is_broker_pod(rec)[0]:
            brokers.append((rec, raw))
    if not brokers:
        where = f"namespace {namespace}" if namespace else "any namespace"
        raise InputError("capture", Problem("Kafka", f"no running Kafka broker pod in {where} (labels app.kubernetes.io/name=kafka "
                                                     "or Strimzi's broker pods); give --namespace"))
    pod, raw = sorted(brokers, key=lambda b: (b[0].namespace, b[0].name))[0]
    kafka_exec = ["exec", "-n", pod.namespace or (namespace or "default"), pod.name]
    kafka_container = _container(raw, ("kafka", "broker"))
    if kafka_container:
        kafka_exec += ["-c", kafka_container]
    for tool, name in (("kafka-topics.sh", "topics.txt"), ("kafka-log-dirs.sh", "logdirs.txt")):
        c.write(name, c.kubectl(*kafka_exec, "--", "sh", "-c", FIND_TOOL, "sh", tool,
                                "--bootstrap-server", bootstrap_server, "--describe"))
    return c.result
