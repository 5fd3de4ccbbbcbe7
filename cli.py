"""The command line: parse, call the library, render. No logic lives here.

Exit status: 0 success, 1 a negative verdict, 2 bad input or usage, 3 internal error.
Solver modules are imported lazily by the library, never at this module's scope.
"""
from __future__ import annotations

import json
import sys
from functools import wraps
from pathlib import Path

import click

EXIT_OK, EXIT_NEGATIVE, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


def _guarded(command):
    """Turn the library's exceptions into exit codes and one clear paragraph, never a traceback."""

    @wraps(command)
    def run(*args, **kwargs):
        from placement import InputError

        try:
            code = command(*args, **kwargs)
        except InputError as exc:
            click.echo(exc.paragraph(), err=True)
            sys.exit(EXIT_INPUT)
        except click.exceptions.ClickException:
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            click.echo(f"internal error in placement: {type(exc).__name__}: {exc}. "
                       "This is a bug; please report it with the input files.", err=True)
            sys.exit(EXIT_INTERNAL)
        sys.exit(code or EXIT_OK)

    return run


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="placement")
def main() -> None:
    """Optimal, verified recovery plans for Kafka on Kubernetes with Portworx storage."""


@main.command()
@click.argument("cluster_file", metavar="CLUSTER")
@click.option("--fail", "fail", multiple=True, metavar="NODE", help="A node that failed (repeatable).")
@click.option("--fail-zone", "fail_zones", multiple=True, metavar="ZONE", help="A whole zone that failed (repeatable).")
@click.option("--remove-broker", "remove_brokers", multiple=True, type=int, metavar="ID", help="Retire a broker (repeatable).")
@click.option("--allow-unclean", is_flag=True,
              help="Let an out-of-sync replica lead a partition whose in-sync replicas are all gone (loses data).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "kafka", "script", "html"]), default="table",
              show_default=True,
              help="kafka: the reassignment JSON of kafka-reassign-partitions.sh; "
                   "script: a bash script performing the steps (dry run unless run with --apply); "
                   "html: one self-contained page picturing the plan.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the plan document (JSON) here; with --format kafka the reassignment JSON, "
                   "beside it FILE.rollback.json and, when leaders move, FILE.election.json; "
                   "with --format script the script (made executable); with --format html the page.")
@click.option("--namespace", default="kafka", show_default=True, help="Script: the Kafka pods' namespace.")
@click.option("--statefulset", default="kafka", show_default=True, help="Script: the brokers' StatefulSet (pods NAME-ID).")
@click.option("--bootstrap-server", "bootstrap", default="localhost:9092", show_default=True, metavar="HOST:PORT",
              help="Script: where kafka-*.sh connect.")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=60.0, show_default=True, metavar="SECONDS",
              help="Bound on solving time; an unproven answer says so.")
@click.option("--seed", type=int, default=0, show_default=True, help="Solver seed (same input and seed, same plan).")
@_guarded
def plan(cluster_file, fail, fail_zones, remove_brokers, allow_unclean, fmt, output, namespace, statefulset, bootstrap,
         time_limit, seed):
    """Compute the optimal recovery plan for CLUSTER after the given failures."""
    import placement
    from placement.render.tables import console, render_plan

    if fmt == "script":
        placement.check_script_options(namespace, statefulset, bootstrap)  # before a long solve, not after
    cluster = placement.load_cluster(cluster_file)
    result = placement.plan(cluster, fail, fail_zones, remove_brokers, allow_unclean=allow_unclean,
                            time_limit=time_limit, seed=seed, progress=True)
    if fmt == "kafka":
        _write_kafka_files(cluster, result, output)
        return EXIT_OK if result.status.meets_invariants else EXIT_NEGATIVE
    if fmt == "script":
        script = placement.render_script(cluster, result, namespace=namespace, statefulset=statefulset, bootstrap=bootstrap)
        if output:
            Path(output).write_text(script, encoding="utf-8")
            Path(output).chmod(0o755)
        else:
            sys.stdout.write(script)
        return EXIT_OK if result.status.meets_invariants else EXIT_NEGATIVE
    if fmt == "html":
        from placement.render.plan_page import plan_page

        _write_or_print(plan_page(cluster, result.to_document()), output)
        return EXIT_OK if result.status.meets_invariants else EXIT_NEGATIVE
    document = json.dumps(result.to_document(), indent=2) + "\n"
    if output:
        Path(output).write_text(document, encoding="utf-8")
    if fmt == "json" and not output:
        sys.stdout.write(document)
    elif fmt == "table":
        render_plan(console(), cluster, result)
    return EXIT_OK if result.status.meets_invariants else EXIT_NEGATIVE


def _write_or_print(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _write_kafka_files(cluster, result, output) -> None:
    from placement.render import kafka_files

    def dump(data) -> str:
        return json.dumps(data, indent=2) + "\n"

    moves = dump(kafka_files.reassignment(cluster, result))
    if not output:
        sys.stdout.write(moves)
        return
    base = Path(output)
    stem = base.with_suffix("") if base.suffix == ".json" else base
    base.write_text(moves, encoding="utf-8")
    Path(f"{stem}.rollback.json").write_text(dump(kafka_files.rollback(cluster, result)), encoding="utf-8")
    election = kafka_files.preferred_election(cluster, result)
    if election:
        Path(f"{stem}.election.json").write_text(dump(election), encoding="utf-8")


@main.command()
@click.argument("cluster_file", metavar="CLUSTER")
@click.argument("plan_file", metavar="PLAN")
@click.option("--fail", "fail", multiple=True, metavar="NODE", help="A node that failed (repeatable).")
@click.option("--fail-zone", "fail_zones", multiple=True, metavar="ZONE", help="A whole zone that failed (repeatable).")
@_guarded
def verify(cluster_file, plan_file, fail, fail_zones):
    """Check a plan document against CLUSTER and the invariants, independently of how it was made."""
    import placement
    from placement.render.tables import console, render_verdict

    cluster = placement.load_cluster(cluster_file)
    document = placement.load_plan_document(plan_file)
    verdict = placement.verify(cluster, document, fail, fail_zones, source=plan_file)
    render_verdict(console(), verdict, plan_file)
    return EXIT_OK if verdict.ok else EXIT_NEGATIVE


@main.command()
@click.argument("cluster_file", metavar="CLUSTER")
@click.argument("more_nodes", nargs=-1, metavar="")
@click.option("--failures", "max_failures", type=click.IntRange(min=0), default=None, metavar="K",
              help="Consider every set of up to K nodes failing [default: 1, or 0 with --zones or --minimum].")
@click.option("--zones", is_flag=True, help="Also consider each whole zone failing.")
@click.option("--minimum", is_flag=True, help="Also prove the least number of node failures that loses data.")
@click.option("--ok-to-stop", "ok_to_stop", multiple=True, metavar="NODE...",
              help="May these nodes stop now, with no step taken? (names after it, or repeated, or comma-separated)")
@click.option("--waves", is_flag=True,
              help="The fewest groups of nodes to stop one at a time (maintenance waves), the minimum proven.")
@click.option("--max-wave", type=click.IntRange(min=1), default=None, metavar="N",
              help="With --waves: at most N nodes a wave.")
@click.option("--min-replicas", type=click.IntRange(min=1, max=3), default=None, metavar="N",
              help="With --ok-to-stop or --waves: in-sync replicas every volume keeps "
                   "[default: its replication factor minus one, at least 1].")
@click.option("--jobs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Spread scenarios over N local processes (at most the CPUs) [default: 1].")
@click.option("--scheduler", metavar="ADDRESS", help="Run scenarios on this Dask scheduler (extra: distributed).")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=None, metavar="SECONDS",
              help="Solver time per failure scenario that needs one [default: 30]; with --waves, in all [default: 60]. "
                   "An undecided scenario or an unproven minimum is reported, never guessed.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html"]), default="table", show_default=True,
              help="html: one self-contained page with the verdict and the cluster drawn.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the json or html output here instead of standard output.")
@_guarded
def check(cluster_file, more_nodes, max_failures, zones, minimum, ok_to_stop, waves, max_wave, min_replicas, jobs,
          scheduler, time_limit, fmt, output):
    """Does CLUSTER survive any K node failures (and each zone)? Exit 0 yes, 1 no.

    With --ok-to-stop NODE...: may these nodes stop now (0 yes, 1 no). With --waves: the fewest
    maintenance waves (0 found, 1 none can exist)."""
    import placement

    mode = _check_mode(more_nodes, ok_to_stop, waves, max_failures, zones, minimum, max_wave, min_replicas, jobs,
                       scheduler, time_limit)
    cluster = placement.load_cluster(cluster_file)
    if mode == "ok-to-stop":
        nodes = [n for arg in (*ok_to_stop, *more_nodes) for n in arg.split(",") if n]
        verdict = placement.ok_to_stop(cluster, nodes, min_replicas=min_replicas)
        return _show_check(cluster, verdict, fmt, output, EXIT_OK if verdict.ok else EXIT_NEGATIVE)
    if mode == "waves":
        plan = placement.waves(cluster, max_wave=max_wave, min_replicas=min_replicas,
                               time_limit=60.0 if time_limit is None else time_limit)
        return _show_check(cluster, plan, fmt, output, EXIT_OK if plan.possible else EXIT_NEGATIVE)
    from placement.render.tables import sweep_progress

    if max_failures is None:
        max_failures = 0 if zones or minimum else 1
    with sweep_progress(enabled=sys.stderr.isatty()) as progress:
        result = placement.check(cluster, failures=max_failures, zones=zones, minimum=minimum, jobs=jobs or 1,
                                 scheduler=scheduler, time_limit=30.0 if time_limit is None else time_limit,
                                 progress=progress)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    return _show_check(cluster, result, fmt, output, EXIT_OK if result.tolerates else EXIT_NEGATIVE)


def _check_mode(more_nodes, ok_to_stop, waves, max_failures, zones, minimum, max_wave, min_replicas, jobs,
                scheduler, time_limit) -> str:
    """Which question check answers; options that belong to another one are refused, not ignored."""
    from placement import InputError, Problem

    def refuse(option: str, why: str):
        raise InputError("command line", Problem(option, why))

    if more_nodes and not ok_to_stop:
        refuse(more_nodes[0], "check takes one CLUSTER; node names belong after --ok-to-stop "
                              f"(placement check CLUSTER --ok-to-stop {' '.join(more_nodes[:3])})")
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
        return "ok-to-stop" if ok_to_stop else "waves"
    for option, given in (("--max-wave", max_wave is not None), ("--min-replicas", min_replicas is not None)):
        if given:
            refuse(option, "goes with --ok-to-stop NODE... or --waves")
    return "sweep"


def _show_check(cluster, result, fmt: str, output: str | None, code: int) -> int:
    """Print or write a check's answer (the sweep's, ok-to-stop's or the waves') in the chosen format."""
    if fmt == "html":
        from placement.render.check_page import check_page

        _write_or_print(check_page(cluster, result.to_document()), output)
    elif fmt == "json" or output:  # as plan: with -o and the table, the document goes to the file
        _write_or_print(json.dumps(result.to_document(), indent=2) + "\n", output)
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
    from placement.render.cluster_file import write_output

    result = placement.import_cluster(*sources, zone_label=zone_label, kafka_pods=kafka_pods)
    write_output(output, result.document, report_file, result.report)
    click.echo(result.report.render(), err=True, nl=False)
    return EXIT_NEGATIVE if strict and not result.report.clean else EXIT_OK


@main.command()
@click.option("-o", "--output", "directory", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="The directory to write the capture into (created; must hold nothing else).")
@click.option("--context", metavar="NAME", help="The kubectl context [default: the current one].")
@click.option("--namespace", metavar="NS", help="The Kafka pods' and claims' namespace [default: all namespaces].")
@click.option("--portworx-namespace", metavar="NS", help="Where the Portworx pods run [default: found by label name=portworx].")
@click.option("--bootstrap-server", default="localhost:9092", show_default=True, metavar="HOST:PORT",
              help="Where the Kafka tools connect, from inside the broker pod.")
@click.option("--timeout", type=click.FloatRange(min=1), default=60.0, show_default=True, metavar="SECONDS",
              help="Time allowed to each kubectl command.")
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
    from placement.render.tables import console

    return run_demo(console(), html=Path(html) if html else None)


if __name__ == "__main__":
    main()
