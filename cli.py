"""The command line: parse, call the library, render. No logic lives here.

Exit status: 0 success, 1 a negative verdict, 2 bad input or usage, 3 internal error.
A reader that closes standard output early (``| head``) changes nothing: the rest of the
output is discarded and the status is still the verdict's (placement.render.outputs).
Solver modules are imported lazily by the library, never at this module's scope.
"""
from __future__ import annotations

import math
import re
import sys
from contextlib import contextmanager
from functools import wraps
from pathlib import Path

import click

EXIT_OK, EXIT_NEGATIVE, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
SEED_MAX = 2**31 - 1  # CP-SAT's random_seed is a 32-bit integer
ID_MAX = 2**31 - 1  # Kafka's broker ids are 32-bit integers
MESSAGE_CHARACTERS = 1000  # of a usage error (click quotes the value it refuses)


def _collect_garbage_rarely() -> None:
    """One command is one short process holding a few million long-lived objects (a 5,000-node
    cluster and its plan): with CPython's default thresholds the cyclic collector walks all of them
    again and again while they are built, 2 of the 8 s such a plan takes. Collect the young
    generation every 50,000 allocations (its cycles are still freed) and the whole heap every
    10 million at most; nothing placement builds depends on when cycles are freed."""
    import gc

    gc.set_threshold(50_000, 20, 10)


def _load_long_lived(cluster_file: str):
    """``placement.load_cluster``, for a command that keeps the cluster to its end: read with the
    cyclic collector paused, then frozen (``gc.freeze``: what is alive moves to the permanent
    generation, which no collection walks again). A 5,000-node cluster is a few million objects the
    collector otherwise walks in every young collection while they are built and once more in the
    next middle one, 0.4 s of a plan's 5. The cluster lives to the command's end anyway; what
    loading dropped (the parsed document) was freed when its last reference went, and a frozen
    object is still freed that way (freezing only spares it the collector's walks)."""
    import gc

    import placement

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        cluster = placement.load_cluster(cluster_file)
        gc.freeze()
    finally:
        if was_enabled:
            gc.enable()
    return cluster


STDIN = "-"


def _input(*paths: str) -> tuple[str, ...]:
    """The paths a command reads, with ``-`` (standard input, as for import) as ``/dev/stdin``: the loaders read a
    pipe or a redirected file there like any file. Standard input can be read once, and not from a terminal."""
    import os

    from placement import InputError, Problem

    if paths.count(STDIN) > 1:
        raise InputError(STDIN, Problem("", "standard input is named twice; it can be read once: name a file for the others"))
    if STDIN in paths and os.isatty(0):
        raise InputError(STDIN, Problem("", "standard input is a terminal; pipe the file in (placement plan - < cluster.yaml) "
                                            "or name the file"))
    for path in paths:
        _missing_example(path)
    return tuple("/dev/stdin" if path == STDIN else path for path in paths)


def _missing_example(path: str) -> None:
    """The README's sessions name ``examples/seed.yaml`` and its kin, which exist in a checkout; installed with pip,
    they are package data. A missing ``examples/NAME`` that placement ships says where its copy is (it is not
    used in its place: the user may have meant another file)."""
    import os
    from importlib.resources import files

    from placement import InputError, Problem

    shown = Path(path)
    if shown.parent.name != "examples" or os.path.lexists(path):
        return
    try:
        shipped = files("placement.examples") / shown.name
        if not (shown.suffix in (".yaml", ".yml", ".json") and shipped.is_file()):
            return
    except (ModuleNotFoundError, OSError, ValueError):
        return
    raise InputError(path, Problem("", f"no such file; placement's own examples are installed with it: {shipped} "
                                       "(give that path, or run from a checkout of placement)"))


def _pause_collector() -> None:
    """For ``plan``, from the cluster loaded to the end of the command: no cyclic collection. A
    plan builds a few hundred thousand long-lived objects (targets, documents, texts) and almost
    no cycles: with the collector paused, a 5,000-node plan leaves 7 cyclic objects behind and a
    1,000-node zone failure 300, while its young collections walked every new object, 0.15 s of
    a 5,000-node plan's 4. Reference counting still frees everything else as it goes. ``_guarded``
    restores the collector once the command has returned and its objects are freed (a process that
    goes on, such as a test runner, keeps collecting): restored while the plan and its document
    were still held, its first young collection would walk them all, 0.12 s at 5,000 nodes."""
    import gc

    gc.disable()


def _guarded(command):
    """Turn the library's exceptions into exit codes and one clear paragraph, never a traceback."""

    @wraps(command)
    def run(*args, **kwargs):
        import gc

        collecting = gc.isenabled()
        try:
            _run(*args, **kwargs)
        finally:
            _end_of_command(collecting)

    def _run(*args, **kwargs):
        from placement import InputError

        _collect_garbage_rarely()
        try:
            code = command(*args, **kwargs)
        except InputError as exc:
            click.echo(exc.paragraph(), err=True)
            sys.exit(EXIT_INPUT)
        except click.exceptions.ClickException:
            raise
        except OSError as exc:
            if not _is_output_error(exc):
                raise _internal(exc)
            _quiet_stdout()  # a closed pipe or a full device: say so once, exit 2, no traceback at exit
            click.echo(f"standard output cannot be written: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_INPUT)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            raise _internal(exc)
        try:
            sys.stdout.flush()
        except BrokenPipeError:  # the reader stopped early (| head): the status stays the verdict's
            from placement.render.outputs import discard_stdout

            discard_stdout()
        except OSError as exc:
            _quiet_stdout()
            click.echo(f"standard output cannot be written: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_INPUT)
        sys.exit(code or EXIT_OK)

    return run


def _end_of_command(collecting: bool) -> None:
    """A command has returned (or raised): drop the facts placement made once per cluster, which
    hold the cluster (``placement.rules.forget_clusters``), so that it is freed now by reference
    counting, not torn down at the interpreter's exit (at 5,000 nodes 0.08 s instead of 0.4 s);
    then the cyclic collector as the command found it (``plan`` pauses it)."""
    import gc

    rules = sys.modules.get("placement.rules")  # not imported: nothing to drop (and no import to pay)
    if rules is not None:
        rules.forget_clusters()
    if collecting:
        gc.enable()


def _internal(exc: BaseException) -> SystemExit:
    text = str(exc)
    if len(text) > MESSAGE_CHARACTERS:
        text = text[:MESSAGE_CHARACTERS] + "..."
    click.echo(f"internal error in placement: {type(exc).__name__}: {text}. "
               "This is a bug; please report it with the input files.", err=True)
    return SystemExit(EXIT_INTERNAL)


def _is_output_error(exc: OSError) -> bool:
    """A write to standard output that failed (a closed pipe, a full device): the user's setup, not a bug."""
    import errno

    if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
        return True
    return exc.errno in (errno.ENOSPC, errno.EIO, errno.EDQUOT) and exc.filename is None


def _quiet_stdout() -> None:
    """Standard output is broken: let nothing more be written (or flushed at exit) to it."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # CliRunner's stdout has no descriptor
        pass


@contextmanager
def _bounded_usage_errors():
    """Click quotes the value it refuses: keep its message to a paragraph. A usage error is one
    paragraph too (bad input, CONTRACT): Click's usage line and help hint become the message's end
    ("... (usage: placement check [OPTIONS] CLUSTER; see 'placement check --help')")."""
    try:
        yield
    except click.ClickException as exc:
        if len(exc.message) > MESSAGE_CHARACTERS:
            exc.message = f"{exc.message[:MESSAGE_CHARACTERS]}... (cut at {MESSAGE_CHARACTERS} characters)"
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            usage = exc.ctx.get_usage().removeprefix("Usage: ").strip()
            exc.message = f"{exc.message.rstrip().rstrip('.')} (usage: {usage}; see '{exc.ctx.command_path} --help')"
            exc.ctx = None  # Click prints its usage lines only with a context
        raise


class _Main(click.Group):
    def make_context(self, *args, **kwargs):
        with _bounded_usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with _bounded_usage_errors():
            return super().invoke(ctx)


class _Name(click.ParamType):
    """An option that names something: the name policy of placement.models.names (full match)."""

    def __init__(self, kind: str):
        self.kind = kind
        self.name = kind

    def convert(self, value, param, ctx):
        import placement

        wrong = placement.name_problem(self.kind, value)
        if wrong is not None:
            self.fail(wrong, param, ctx)
        return value


class _Integer(click.ParamType):
    """A whole number in a range, quoting a bounded excerpt of what it refuses."""

    name = "integer"

    def __init__(self, low: int, high: int, what: str):
        self.low, self.high, self.what = low, high, what

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip()
            if not re.fullmatch(r"[+-]?[0-9]{1,20}", text):  # ASCII digits only: int() takes '²' for no number
                self.fail(f"{_excerpt(text)} is not {self.what} (a whole number in {self.low:,}..{self.high:,})", param, ctx)
            number = int(text)
        if not self.low <= number <= self.high:
            self.fail(f"{number} is not in {self.low:,}..{self.high:,} ({self.what})", param, ctx)
        return number


class _Seconds(click.ParamType):
    """A finite number of seconds in a range (click's FloatRange lets nan and inf through)."""

    name = "seconds"

    def __init__(self, low: float, high: float):
        self.low, self.high = low, high

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            self.fail(f"{_excerpt(str(value))} is not a number of seconds", param, ctx)
        if not math.isfinite(number) or not self.low <= number <= self.high:
            self.fail(f"{_excerpt(str(value))} is not a number of seconds in {self.low:g}..{self.high:,.0f}", param, ctx)
        return number


class _Percent(click.ParamType):
    """A finite percentage, more than 0 and at most 100 (click's FloatRange lets nan through)."""

    name = "percent"

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            self.fail(f"{_excerpt(str(value))} is not a percentage", param, ctx)
        if not math.isfinite(number) or not 0 < number <= 100:
            self.fail(f"{_excerpt(str(value))} is not a percentage of a node's storage (more than 0, at most 100)",
                      param, ctx)
        return number


PERCENT = _Percent()


def _excerpt(text: str, limit: int = 48) -> str:
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text):,} characters)"


NODE, ZONE = _Name("node"), _Name("zone")
NAMESPACE, STATEFULSET, BOOTSTRAP = _Name("namespace"), _Name("statefulset"), _Name("bootstrap")
BROKER_ID = _Integer(0, ID_MAX, "a broker id")
SEED = _Integer(0, SEED_MAX, "a solver seed")
PLAN_SECONDS = _Seconds(0.1, 1_000_000)
MIN_REPLICAS = _Integer(1, 3, "a number of in-sync replicas")
COUNT_MAX = 2**63 - 1
FAILURES = _Integer(0, COUNT_MAX, "a number of node failures")
WAVE_SIZE = _Integer(1, COUNT_MAX, "a number of nodes per wave")
JOBS = _Integer(1, COUNT_MAX, "a number of processes")
CAPTURE_SECONDS = _Seconds(1, 86_400)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="placement")
def main() -> None:
    """Optimal, verified recovery plans for Kafka on Kubernetes with Portworx storage."""


@main.command()
@click.argument("cluster_file", metavar="CLUSTER")
@click.argument("more_nodes", nargs=-1, metavar="")
@click.option("--fail", "fail", multiple=True, type=NODE, metavar="NODE", help="A node that failed (repeatable).")
@click.option("--fail-zone", "fail_zones", multiple=True, type=ZONE, metavar="ZONE",
              help="A whole zone that failed (repeatable).")
@click.option("--remove-broker", "remove_brokers", multiple=True, type=BROKER_ID, metavar="ID",
              help="Retire a broker (repeatable).")
@click.option("--drain", "drain", multiple=True, metavar="NODE...",
              help="Empty these nodes for maintenance or decommission: they stay up while the steps run and "
                   "receive nothing new (names after it, or repeated, or comma-separated).")
@click.option("--rebalance", is_flag=True, help="Bring every node within --max-used PERCENT of its storage.")
@click.option("--max-used", "max_used", type=PERCENT, metavar="PERCENT",
              help="With --rebalance: the most of its storage a node's replicas may take (more than 0, at most 100).")
@click.option("--min-replicas", type=MIN_REPLICAS, default=None, metavar="N",
              help="With --drain or --rebalance: in-sync replicas every volume keeps while the steps run, 1 to 3 "
                   "[default: its replication factor minus one, at least 1].")
@click.option("--allow-unclean", is_flag=True,
              help="Let an out-of-sync replica lead a partition whose in-sync replicas are all gone (loses data).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "kafka", "script", "html"]), default="table",
              show_default=True,
              help="kafka: the reassignment JSON of kafka-reassign-partitions.sh; "
                   "script: a bash script performing the steps (dry run unless run with --apply); "
                   "html: one self-contained page picturing the plan.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the plan document (JSON) here; with --format kafka the reassignment JSON, "
                   "beside it FILE.rollback.json and, when leaders move, FILE.election.json; "
                   "with --format script the script (made executable); with --format html the page. "
                   "Checked before solving; written whole or not at all (never over an input).")
@click.option("--all", "show_all", is_flag=True,
              help="Table: every row of every section (by default a long section shows its first rows and says how many more).")
@click.option("--namespace", default="kafka", show_default=True, type=NAMESPACE, help="Script: the Kafka pods' namespace.")
@click.option("--statefulset", default="kafka", show_default=True, type=STATEFULSET,
              help="Script: the brokers' StatefulSet (pods NAME-ID, at most 63 characters).")
@click.option("--bootstrap-server", "bootstrap", default="localhost:9092", show_default=True, type=BOOTSTRAP,
              metavar="HOST:PORT", help="Script: where kafka-*.sh connect.")
@click.option("--time-limit", type=PLAN_SECONDS, default=60.0, show_default=True, metavar="SECONDS",
              help="Bound on solving time (0.1 to 1,000,000); an unproven answer says so. A degraded "
                   "plan (something must fall short) stops searching once it has not improved for 5% of "
                   "the limit (after 20% of it when no shortfall is proven unavoidable or nothing better than "
                   "the greedy start was found); its later levels "
                   "share 10%. At scale (candidates restricted), the levels after the first share 5%, "
                   "each stopped after 2% without improving (no model is built where building it would "
                   "take half of that: a greedy start meeting every invariant is then the plan); from a "
                   "greedy start that falls short, the "
                   "whole search (its models built and solved) takes 10%. A larger limit searches longer.")
@click.option("--seed", type=SEED, default=0, show_default=True, metavar="N",
              help="Solver seed, 0 to 2147483647 (same input and seed, same plan).")
@_guarded
def plan(cluster_file, more_nodes, fail, fail_zones, remove_brokers, drain, rebalance, max_used, min_replicas,
         allow_unclean, fmt, output, show_all, namespace, statefulset, bootstrap, time_limit, seed):
    """Compute the optimal plan for CLUSTER: the recovery after the given failures, or a planned
    operation (--drain NODE..., --rebalance --max-used PERCENT)."""
    import placement
    from placement.render.outputs import Outputs, json_text
    from placement.render.tables import console, render_plan

    drained = _planned_operation(more_nodes, drain, rebalance, max_used, min_replicas)
    (cluster_file,) = _input(cluster_file)
    outputs = Outputs(inputs=[cluster_file])
    files = _plan_files(outputs, fmt, output)  # refused now, before a long solve, not after
    if fmt == "script":
        placement.check_script_options(namespace, statefulset, bootstrap)
    cluster = _load_long_lived(cluster_file)
    _pause_collector()  # to the command's end: _guarded restores it
    if fmt == "script":
        _check_pod_names(cluster, statefulset)
    result = placement.plan(cluster, fail, fail_zones, remove_brokers, drain=drained,
                            max_used=max_used if rebalance else None, min_replicas=min_replicas,
                            allow_unclean=allow_unclean, time_limit=time_limit, seed=seed, progress=True)
    verdict = EXIT_OK if result.status.meets_invariants else EXIT_NEGATIVE
    if fmt == "kafka":
        _write_kafka_files(cluster, result, outputs, files)
        return verdict
    if fmt == "script":
        script = placement.render_script(cluster, result, namespace=namespace, statefulset=statefulset, bootstrap=bootstrap)
        _write_or_print(outputs, files.get("main"), script)
        return verdict
    if fmt == "html":
        from placement.render.plan_page import plan_page

        _write_or_print(outputs, files.get("main"), plan_page(cluster, result.to_document()))
        return verdict
    document = json_text(result.to_document())
    if fmt == "json" or files:
        _write_or_print(outputs, files.get("main"), document)
    if fmt == "table":
        render_plan(console(), cluster, result, show_all=show_all)
    return verdict


def _planned_operation(more_nodes, drain, rebalance, max_used, min_replicas) -> list[str]:
    """The nodes to drain (after --drain, repeated or comma-separated), each a node name of the
    policy; options that go with a planned operation are refused without one, not ignored."""
    import placement
    from placement import InputError, Problem

    def refuse(option: str, why: str):
        raise InputError("command line", Problem(option, why))

    if more_nodes and not drain:
        refuse(_excerpt(more_nodes[0]), "plan takes one CLUSTER; node names belong after --drain or --fail "
                                        f"(placement plan CLUSTER --drain {' '.join(_excerpt(n) for n in more_nodes[:3])})")
    if rebalance and max_used is None:
        refuse("--rebalance", "needs --max-used PERCENT: the most of its storage each node may use")
    if max_used is not None and not rebalance:
        refuse("--max-used", "goes with --rebalance (placement plan CLUSTER --rebalance --max-used PERCENT)")
    if min_replicas is not None and not (drain or rebalance):
        refuse("--min-replicas", "goes with --drain NODE... or --rebalance: a recovery keeps at least 1")
    nodes = [n for arg in (*drain, *more_nodes) for n in arg.split(",") if n]
    for name in nodes:
        wrong = placement.name_problem("node", name)
        if wrong is not None:
            refuse("--drain", wrong)
    return nodes


def _plan_files(outputs, fmt: str, output: str | None) -> dict:
    """The files ``plan -o`` writes, each checked now: the main one, and for --format kafka its side files."""
    if not output:
        return {}
    files = {"main": outputs.file(output, "-o", executable=fmt == "script")}
    if fmt == "kafka":
        stem = _kafka_stem(output)
        files["rollback"] = outputs.file(f"{stem}.rollback.json", "-o (its rollback file)")
        files["election"] = outputs.file(f"{stem}.election.json", "-o (its leader election file)")
    return files


def _kafka_stem(output: str) -> str:
    base = Path(output)
    return str(base.with_suffix("") if base.suffix == ".json" else base)


def _check_pod_names(cluster, statefulset: str) -> None:
    """Each broker's pod, STATEFULSET-ID, must be a name Kubernetes accepts (at most 63 characters)."""
    import placement

    longest = max((b.id for b in cluster.brokers), default=0)
    wrong = placement.pod_name_problem(statefulset, longest)
    if wrong is not None:
        raise placement.InputError("command line", placement.Problem("--statefulset", wrong))


def _write_or_print(outputs, file, text: str) -> None:
    from placement.render.outputs import write_stdout

    if file is not None:
        outputs.write({file: text})
    else:
        write_stdout(text)


def _write_kafka_files(cluster, result, outputs, files: dict) -> None:
    from placement.render import kafka_files
    from placement.render.outputs import json_text

    moves = json_text(kafka_files.reassignment(cluster, result))
    if not files:
        _write_or_print(outputs, None, moves)
        return
    texts = {files["main"]: moves, files["rollback"]: json_text(kafka_files.rollback(cluster, result))}
    election = kafka_files.preferred_election(cluster, result)
    if election:
        texts[files["election"]] = json_text(election)
    outputs.write(texts)  # all of them or none


@main.command()
@click.argument("cluster_file", metavar="CLUSTER")
@click.argument("plan_file", metavar="PLAN")
@click.option("--fail", "fail", multiple=True, type=NODE, metavar="NODE", help="A node that failed (repeatable).")
@click.option("--fail-zone", "fail_zones", multiple=True, type=ZONE, metavar="ZONE",
              help="A whole zone that failed (repeatable).")
@_guarded
def verify(cluster_file, plan_file, fail, fail_zones):
    """Check a plan document against CLUSTER and the invariants, independently of how it was made."""
    import placement
    from placement.render.tables import console, render_verdict

    cluster_file, plan_file = _input(cluster_file, plan_file)
    cluster = _load_long_lived(cluster_file)
    document = placement.load_plan_document(plan_file)
    verdict = placement.verify(cluster, document, fail, fail_zones, source=plan_file)
    render_verdict(console(), verdict, plan_file)
    return EXIT_OK if verdict.ok else EXIT_NEGATIVE


@main.command()
@click.argument("cluster_file", metavar="CLUSTER")
@click.argument("more_nodes", nargs=-1, metavar="")
@click.option("--failures", "max_failures", type=FAILURES, default=None, metavar="K",
              help="Consider every set of up to K nodes failing [default: 1, or 0 with --zones or --minimum].")
@click.option("--zones", is_flag=True, help="Also consider each whole zone failing.")
@click.option("--minimum", is_flag=True, help="Also prove the least number of node failures that loses data.")
@click.option("--ok-to-stop", "ok_to_stop", multiple=True, metavar="NODE...",
              help="May these nodes stop now, with no step taken? (names after it, or repeated, or comma-separated)")
@click.option("--waves", is_flag=True,
              help="The fewest groups of nodes to stop one at a time (maintenance waves), the minimum proven.")
@click.option("--max-wave", type=WAVE_SIZE, default=None, metavar="N",
              help="With --waves: at most N nodes a wave.")
@click.option("--min-replicas", type=MIN_REPLICAS, default=None, metavar="N",
              help="With --ok-to-stop or --waves: in-sync replicas every volume keeps, 1 to 3 "
                   "[default: its replication factor minus one, at least 1].")
@click.option("--jobs", type=JOBS, default=None, metavar="N",
              help="Spread scenarios over N local processes (at most the CPUs) [default: 1].")
@click.option("--scheduler", metavar="ADDRESS", help="Run scenarios on this Dask scheduler (extra: distributed).")
@click.option("--time-limit", type=PLAN_SECONDS, default=None, metavar="SECONDS",
              help="Solver time per failure scenario that needs one [default: 30]; with --waves, in all [default: 60] "
                   "(0.1 to 1,000,000). An undecided scenario or an unproven minimum is reported, never guessed.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html"]), default="table", show_default=True,
              help="html: one self-contained page with the verdict and the cluster drawn (the counterexample, "
                   "the minima, the stopped nodes).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the JSON document (or with --format html the page) here instead of standard output "
                   "(checked before the check runs; written whole or not at all).")
@_guarded
def check(cluster_file, more_nodes, max_failures, zones, minimum, ok_to_stop, waves, max_wave, min_replicas, jobs,
          scheduler, time_limit, fmt, output):
    """Does CLUSTER survive any K node failures (and each zone)? Exit 0 yes, 1 no.

    With --ok-to-stop NODE...: may these nodes stop now (0 yes, 1 no). With --waves: the fewest
    maintenance waves (0 found, 1 none can exist)."""
    import placement
    from placement.render.outputs import Outputs

    mode, nodes = _check_mode(more_nodes, ok_to_stop, waves, max_failures, zones, minimum, max_wave, min_replicas,
                              jobs, scheduler, time_limit)
    (cluster_file,) = _input(cluster_file)
    outputs = Outputs(inputs=[cluster_file])
    file = outputs.file(output, "-o") if output else None  # refused now, before the check runs, not after
    cluster = _load_long_lived(cluster_file)
    if mode == "ok-to-stop":
        verdict = placement.ok_to_stop(cluster, nodes, min_replicas=min_replicas)
        return _show_check(cluster, verdict, fmt, outputs, file, EXIT_OK if verdict.ok else EXIT_NEGATIVE)
    if mode == "waves":
        plan = placement.waves(cluster, max_wave=max_wave, min_replicas=min_replicas,
                               time_limit=60.0 if time_limit is None else time_limit)
        return _show_check(cluster, plan, fmt, outputs, file, EXIT_OK if plan.possible else EXIT_NEGATIVE)
    from placement.render.tables import sweep_progress

    if max_failures is None:
        max_failures = 0 if zones or minimum else 1
    with sweep_progress(enabled=sys.stderr.isatty()) as progress:
        result = placement.check(cluster, failures=max_failures, zones=zones, minimum=minimum, jobs=jobs or 1,
                                 scheduler=scheduler, time_limit=30.0 if time_limit is None else time_limit,
                                 progress=progress)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    return _show_check(cluster, result, fmt, outputs, file, EXIT_OK if result.tolerates else EXIT_NEGATIVE)


def _check_mode(more_nodes, ok_to_stop, waves, max_failures, zones, minimum, max_wave, min_replicas, jobs,
                scheduler, time_limit) -> tuple[str, list[str]]:
    """Which question check answers, and the nodes --ok-to-stop names (each a node name of the
    policy); options that belong to another question are refused, not ignored."""
    import placement
    from placement import InputError, Problem

    def refuse(option: str, why: str):
        raise InputError("command line", Problem(option, why))

    if more_nodes and not ok_to_stop:
        named = " ".join(_excerpt(n) for n in more_nodes[:3])
        refuse(_excerpt(more_nodes[0]), "check takes one CLUSTER; node names belong after --ok-to-stop "
                                        f"(placement check CLUSTER --ok-to-stop {named})")
    if ok_to_stop and waves:
        refuse("--waves", "--ok-to-stop and --waves are two questions: ask one at a time")
    sweep_options = [name for name, given in (("--failures", max_failures is not None), ("--zones", zones),
                                              ("--minimum", minimum), ("--jobs", jobs is not None),
                                              ("--scheduler", scheduler is not None)) if given]
    if ok_to_stop or waves:
        asked = "--ok-to-stop" if ok_to_stop else "--waves"
        if sweep_options:
            refuse(sweep_options[0], f"belongs to the failure sweep, not to {asked}: leave it out, or run the two "
                                     "checks one after the other")
        if max_wave is not None and not waves:
            refuse("--max-wave", "caps a wave's size and goes with --waves only")
        if time_limit is not None and not waves:
            refuse("--time-limit", "--ok-to-stop searches nothing (one pass over the cluster): leave it out")
        nodes = [n for arg in (*ok_to_stop, *more_nodes) for n in arg.split(",") if n]
        for name in nodes:
            wrong = placement.name_problem("node", name)
            if wrong is not None:
                refuse("--ok-to-stop", wrong)
        return ("ok-to-stop" if ok_to_stop else "waves"), nodes
    for option, given in (("--max-wave", max_wave is not None), ("--min-replicas", min_replicas is not None)):
        if given:
            refuse(option, "goes with --ok-to-stop NODE... or --waves")
    return "sweep", []


def _show_check(cluster, result, fmt: str, outputs, file, code: int) -> int:
    """Print or write a check's answer (the sweep's, ok-to-stop's or the waves') in the chosen format."""
    from placement.render.outputs import json_text

    if fmt == "html":
        from placement.render.check_page import check_page

        _write_or_print(outputs, file, check_page(cluster, result.to_document()))
    elif fmt == "json" or file is not None:  # as plan: with -o and the table, the document goes to the file
        _write_or_print(outputs, file, json_text(result.to_document()))
    if fmt == "table":
        from placement.render.tables import console, render_check

        render_check(console(), cluster, result)
    return code


@main.command("import")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the cluster file here (JSON if FILE ends in .json, else YAML) instead of to standard output.")
@click.option("--zone-label", metavar="LABEL", help="Node label holding the zone when neither topology label is set.")
@click.option("--kafka-pods", metavar="SELECTOR",
              help="Label selector of the broker pods [default: app.kubernetes.io/name=kafka and Strimzi's broker pods].")
@click.option("--strict", is_flag=True, help="Exit 1 when anything was assumed or left unresolved.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Also write the report (every item assumed or unresolved) here as JSON.")
@_guarded
def import_(sources, output, zone_label, kafka_pods, strict, report_file):
    """Build a cluster file from kubectl, pxctl and Kafka tool outputs (files, directories or - for stdin)."""
    import placement
    from placement.render.cluster_file import prepare_outputs, write_output

    outputs = prepare_outputs(sources, output, report_file)  # before reading: never over a source
    result = placement.import_cluster(*sources, zone_label=zone_label, kafka_pods=kafka_pods)
    write_output(outputs, result.document, result.report)
    click.echo(result.report.render(), err=True, nl=False)
    return EXIT_NEGATIVE if strict and not result.report.clean else EXIT_OK


@main.command()
@click.option("-o", "--output", "directory", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="The directory to write the capture into (created; must hold nothing else).")
@click.option("--context", metavar="NAME", help="The kubectl context [default: the current one].")
@click.option("--namespace", metavar="NS", type=NAMESPACE,
              help="The Kafka pods' and claims' namespace [default: all namespaces].")
@click.option("--portworx-namespace", metavar="NS", type=NAMESPACE,
              help="Where the Portworx pods run [default: found by label name=portworx].")
@click.option("--bootstrap-server", default="localhost:9092", show_default=True, metavar="HOST:PORT", type=BOOTSTRAP,
              help="Where the Kafka tools connect, from inside the broker pod.")
@click.option("--timeout", type=CAPTURE_SECONDS, default=60.0, show_default=True, metavar="SECONDS",
              help="Time allowed to each kubectl command (1 to 86,400).")
@_guarded
def capture(directory, context, namespace, portworx_namespace, bootstrap_server, timeout):
    """Collect the cluster's state with kubectl (get and exec only: it changes nothing) for placement import."""
    import placement

    result = placement.capture(directory, context=context, namespace=namespace, portworx_namespace=portworx_namespace,
                         bootstrap_server=bootstrap_server, timeout=timeout)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"wrote {len(result.files)} files to {directory}: {', '.join(result.files)}", err=True)
    click.echo(f"next: placement import {directory} -o cluster.yaml, or placement plan {directory} --fail NODE", err=True)
    return EXIT_OK


@main.command()
@click.option("--html", "html", type=click.Path(file_okay=False, writable=True), metavar="DIR",
              help="Also draw the story: one SVG per act and an index.html in DIR.")
@_guarded
def demo(html):
    """Tell the seed story: 5 nodes, 3 brokers, node-2 fails, the cluster recovers, node-2 returns."""
    from placement.render.demo import run_demo
    from placement.render.story import check_story_directory
    from placement.render.tables import console

    if html:
        check_story_directory(html)  # before the story is told, not after
    return run_demo(console(), html=Path(html) if html else None)


if __name__ == "__main__":
    main()
