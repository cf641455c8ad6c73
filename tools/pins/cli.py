"""``python -m tools.pins``: check every pin, render every chart, materialize upstream files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from environments import ConfigError, load_environments
from tools.pins import checks, inventory, render, sources, upstream

REPO = Path(__file__).resolve().parents[2]


def _check(args: argparse.Namespace) -> int:
    source = sources.default_source(args.source)
    inv = inventory.collect(args.synth)
    report = checks.run(inv, source, addons_from_source=not (isinstance(source, sources.RegistrySource) and args.skip_aws))
    counts = ", ".join(f"{n} {what}" for what, n in report.checked.items())
    print(f"pins: {counts} checked against the {source.name}")
    for note in report.notes:
        print(f"note: {note}")
    for finding in report.findings:
        print(f"error: {finding}", file=sys.stderr)
    return 1 if report.findings else 0


def _render(args: argparse.Namespace) -> int:
    helm = render.helm_binary()
    problems: list[str] = []
    environments = {e.name: e for e in load_environments()}
    for env_name, env in environments.items():
        for pin, values, name, namespace in _releases(env_name, args.synth):
            where = f"{env_name}: {pin.chart} {pin.version}"
            try:
                documents = render.render(
                    pin, values, name=name, namespace=namespace, kube_version=env.cluster.kubernetes_version + ".0", helm=helm
                )
            except render.RenderError as exc:
                problems.append(str(exc))
                continue
            problems += render.validate(documents, env.cluster.kubernetes_version, where)
            print(f"rendered {where}: {len(documents)} objects")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _releases(env: str, synth: Path):  # type: ignore[no-untyped-def]
    """(pin, values, release name, namespace) of every chart of ``env``, values as Flux substitutes them."""
    from tools import gitops_render  # the tree the tests check, as Flux would apply it

    tree = gitops_render.build_tree(env)
    objects = [r.obj for r in tree.objects]
    by_key = {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in objects}
    for obj in objects:
        if obj["kind"] != "HelmRelease":
            continue
        chart, version, repository = inventory._source_of(obj, by_key)
        pin = ChartPinFor(chart, version, repository, f"gitops ({env}): HelmRelease {obj['metadata']['name']}")
        yield pin, obj["spec"].get("values") or {}, obj["metadata"]["name"], obj["metadata"].get("namespace", "default")
    for pin in inventory.bootstrap_pins(synth, [e for e in load_environments() if e.name == env])[0]:
        for values in pin.values:
            yield pin, values, pin.chart, "default"


ChartPinFor = inventory.ChartPin


def _upstream(args: argparse.Namespace) -> int:
    if args.add:
        for entry in upstream.add(args.add):
            print(f"pinned {entry.path} = {entry.url} (sha256 {entry.sha256})")
        return 0
    paths = upstream.materialize_all()
    root = upstream.shared_dir()
    local = sum(1 for path in paths if root is not None and root in path.parents)
    print(
        f"upstream: {len(paths)} files verified: {local} local copies ({root}), {len(paths) - local} downloaded or cached ({upstream.CACHE})"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.pins", description="Check every pin against release facts.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="every chart released, every values key known, every add-on and image published")
    check.add_argument("--source", choices=("auto", "catalog", "registries"), default="auto")
    check.add_argument("--synth", type=Path, default=REPO / "cdktf.out", help="synth output (the bootstrap stacks' charts)")
    check.add_argument("--skip-aws", action="store_true", help="with --source registries: no eks:DescribeAddonVersions call")
    draw = commands.add_parser("render", help="helm template every chart at its pinned version and validate the output")
    draw.add_argument("--synth", type=Path, default=REPO / "cdktf.out")
    fetch = commands.add_parser("upstream", help="materialize the pinned upstream files (or --add more)")
    fetch.add_argument("--add", nargs="+", metavar="PATH", help="pin these files of shared/ by URL and sha256")
    args = parser.parse_args(argv)
    try:
        return {"check": _check, "render": _render, "upstream": _upstream}[args.command](args)
    except (ConfigError, inventory.InventoryError, sources.SourceError, upstream.UpstreamError, render.RenderError) as exc:
        print(f"pins: {exc}", file=sys.stderr)
        return 2
