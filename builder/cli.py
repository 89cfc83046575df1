"""The ``esdc`` command line: one short function per verb, no logic of its own.

Every verb prints for people by default and exact JSON with ``--json``. Errors are one line
naming the file (and line) at fault, exit code 2, and no traceback unless ``--debug``.
Imports of the working packages happen inside the verbs so that ``esdc --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from builder import __version__
from builder.errors import EsdcError

app = typer.Typer(
    name="esdc",
    help="Generate, build, ship, benchmark and verify EBRAINS Software Distribution containers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)
_state = {"debug": False}

Json = Annotated[bool, typer.Option("--json", help="Print exact JSON instead of tables.")]
SiteOpt = Annotated[
    str, typer.Option("--site", "-s", help="Site profile name (site-profiles/NAME.yaml).")
]


def _print_json(payload: object) -> None:
    sys.stdout.write(json.dumps(payload, indent=2) + "\n")


def _version(value: bool) -> None:
    if value:
        console.print(f"esdc {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """esd-containers: verified HPC container images of the EBRAINS Software Distribution."""
    _state["debug"] = debug


@app.command()
def generate(
    env: Annotated[str, typer.Argument(help="Environment name (spack-envs/ENV) or folder.")],
    site: SiteOpt,
    lock: Annotated[Path | None, typer.Option(help="spack.lock to install exactly.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="apptainer or dockerfile.")] = "apptainer",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here (atomically).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write it even if `esdc check` finds problems.")
    ] = False,
) -> None:
    """Render an Apptainer definition (or a Dockerfile) for ENV at SITE.

    An incompatible pair is refused (exit 2) unless --force.
    """
    from builder.generate.api import generate_definition

    text = generate_definition(env, site, lock=lock, fmt=fmt, force=force)
    _emit_text(text, output)


@app.command()
def check(env: Annotated[str, typer.Argument(help="Environment name.")], site: SiteOpt) -> None:
    """Check that ENV can run at SITE: PMIx major, fabric providers, CUDA driver floor,
    packages/variants/compiler/target against recorded Spack metadata, lock, transfer targets.

    Prints what it could not verify (e.g. packages only another repository provides).
    """
    from builder.generate.api import check_report

    problems, unchecked = check_report(env, site)
    for line in unchecked:
        err_console.print(
            f"esdc: not verified: {line}", markup=False, highlight=False, soft_wrap=True
        )
    for problem in problems:
        err_console.print(
            f"esdc: incompatible: {problem}", markup=False, highlight=False, soft_wrap=True
        )
    if problems:
        raise typer.Exit(2)
    console.print(f"{env} is compatible with {site}")


@app.command()
def build(
    definition: Annotated[Path, typer.Argument(help="Definition or Dockerfile to build.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Image path.")] = None,
    site: Annotated[str | None, typer.Option("--site", help="Use this site's runtime.")] = None,
    json_out: Json = False,
) -> None:
    """Build an image with the site's (or the local) runtime; provenance and SBOM go beside it."""
    from builder.build.api import build_image

    result = build_image(definition, output=output, site=site)
    _emit_model(result, json_out)


@app.command()
def push(
    image: Annotated[Path, typer.Argument(help="Image file.")],
    ref: Annotated[str, typer.Argument(help="OCI reference, e.g. localhost:5000/esd/nest:1.0.")],
    json_out: Json = False,
) -> None:
    """Push IMAGE to an OCI registry with ORAS; the digest is checked after the push.

    ``--json`` prints ``ref`` and the manifest ``digest`` (what ``tag`` and ``attest`` take).
    """
    from builder.ship.api import push_image
    from builder.ship.registry import PushResult

    _emit_model(PushResult.of(push_image(image, ref)), json_out)


@app.command()
def tag(
    ref: Annotated[str, typer.Argument(help="Source: HOST/REPO:TAG or HOST/REPO@sha256:...")],
    new_tag: Annotated[str, typer.Argument(help="New tag in the same repository.")],
    json_out: Json = False,
) -> None:
    """Copy the manifest at REF to NEWTAG in the same repository; no blob is uploaded again."""
    from builder.ship.api import tag_image

    _emit_model(tag_image(ref, new_tag), json_out)


@app.command()
def pull(
    ref: Annotated[str, typer.Argument(help="OCI reference (HOST/REPO:TAG or @sha256:...).")],
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
    verified_for: Annotated[
        str | None,
        typer.Option("--verified-for", help="Only an image with a passing attestation for SITE."),
    ] = None,
    trust: Annotated[
        list[Path] | None,
        typer.Option("--trust", help="PEM public key of the site (repeatable)."),
    ] = None,
    apptainer_verify: Annotated[
        bool,
        typer.Option(
            "--apptainer-verify", help="Also run `apptainer verify --key` (first --trust key)."
        ),
    ] = False,
    json_out: Json = False,
) -> None:
    """Pull an image from an OCI registry and check its digest (and, asked, its attestation)."""
    from builder.ship.api import pull_image

    pulled = pull_image(
        ref,
        output,
        verified_for=verified_for,
        trust=trust,
        apptainer_verify=apptainer_verify,
    )
    _emit_model(pulled, json_out)


@app.command()
def attest(
    run_dir: Annotated[Path, typer.Argument(help="Run directory with verdict.json, report.html.")],
    ref: Annotated[
        str, typer.Argument(help="The image that was judged: HOST/REPO:TAG or @digest.")
    ],
    records_url: Annotated[
        str | None, typer.Option("--records-url", help="Where the run's records are kept.")
    ] = None,
    provenance: Annotated[Path | None, typer.Option("--provenance")] = None,
    sbom: Annotated[
        Path | None, typer.Option("--sbom", help="CycloneDX SBOM of the image.")
    ] = None,
    json_out: Json = False,
) -> None:
    """Sign RUN_DIR's verdict (in-toto, DSSE; key in ESDC_SIGNING_KEY) and attach it to REF."""
    from builder.ship.api import attest_run

    _emit_model(
        attest_run(run_dir, ref, records_url=records_url, provenance=provenance, sbom=sbom),
        json_out,
    )


@app.command()
def catalog(
    repo: Annotated[str, typer.Argument(help="Repository: HOST/REPO.")],
    site: Annotated[
        str | None, typer.Option("--site", help="Only this site's attestations.")
    ] = None,
    trust: Annotated[
        list[Path] | None,
        typer.Option("--trust", help="Check signatures with this PEM public key (repeatable)."),
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a one-file HTML catalog page.")
    ] = None,
    json_out: Json = False,
) -> None:
    """List which image digests of REPO are verified for which site, when, by which key."""
    from builder.ship.api import catalog_repository
    from builder.ship.catalog import render_html

    result = catalog_repository(repo, site=site, trust=trust)
    if html is not None:
        from builder.fsio import atomic_write_text

        atomic_write_text(html, render_html(result))
        err_console.print(f"wrote {html}", highlight=False)
    if json_out:
        _print_json(result.model_dump(mode="json", by_alias=True))
        return
    from rich.table import Table

    table = Table("image", "tags", "site", "result", "attested", "key", "rules")
    for entry in result.entries:
        table.add_row(
            entry.image[:19],
            ", ".join(entry.tags),
            entry.site,
            entry.problem or entry.result,
            entry.attested_at,
            f"{entry.keyid[:19]} ({entry.signature.value})",
            "current" if entry.current_rules else "older: revalidate",
        )
    console.print(table)
    for image in result.unverified:
        console.print(f"not verified: {image.image} {', '.join(image.tags)}", highlight=False)


@app.command()
def ship(image: Annotated[Path, typer.Argument()], site: SiteOpt, json_out: Json = False) -> None:
    """Ship IMAGE to SITE by the site's transfer (registry, UNICORE storage, rsync)."""
    from builder.ship.api import ship_image

    _emit_model(ship_image(image, site), json_out)


@app.command()
def bench(
    site: SiteOpt,
    image: Annotated[str, typer.Option("--image", help="Image to benchmark.")],
    suite: Annotated[
        list[str] | None, typer.Option("--suite", help="Suite(s); default: all that apply.")
    ] = None,
    reps: Annotated[
        int, typer.Option("--reps", min=1, help="Performance repetitions per mode.")
    ] = 3,
    resume: Annotated[
        Path | None, typer.Option("--resume", help="Run directory to continue.")
    ] = None,
    runs: Annotated[Path, typer.Option("--runs", help="Where run directories go.")] = Path("runs"),
    json_out: Json = False,
) -> None:
    """Run a paired bare-metal and container campaign; prints the run directory.

    The last line of standard output is the run directory, whole (never wrapped); with
    ``--json`` standard output is ``{"run_dir": ...}`` alone. Progress goes to stderr.
    """
    from builder.run.campaign import run_campaign

    run_dir = run_campaign(site, image, suites=suite, reps=reps, resume=resume, runs_root=runs)
    if json_out:
        _print_json({"run_dir": str(run_dir)})
    else:
        sys.stdout.write(f"{run_dir}\n")


@app.command()
def analyze(
    files: Annotated[list[str], typer.Argument(help="Debug logs ('-' for stdin, .gz accepted).")],
    baseline: Annotated[
        list[str] | None,
        typer.Option("--baseline", help="Bare-metal logs for a differential analysis."),
    ] = None,
    site: Annotated[
        str | None, typer.Option("--site", help="Expected paths from this site.")
    ] = None,
    json_out: Json = False,
) -> None:
    """Tell which transport paths the logged run took, with line-numbered evidence.

    Differential mode: ``esdc analyze --baseline BARE.log -- CONTAINER.log``.
    Exit status: 0 healthy, 1 degraded, 2 bad input or usage, 3 no transport evidence.
    """
    from builder.logs.api import analyze_both, analyze_paths, exit_status
    from builder.logs.render import print_analysis, print_differential

    if baseline and not json_out:
        bare, analysis = analyze_both(files, baseline, site=site)
        print_differential(bare, analysis, console)
        raise typer.Exit(exit_status(analysis))
    analysis = analyze_paths(files, baseline=baseline, site=site)
    if json_out:
        _print_json(analysis.to_json_dict())
    else:
        print_analysis(analysis, console)
    raise typer.Exit(exit_status(analysis))


@app.command()
def parse(
    files: Annotated[list[str], typer.Argument(help="Benchmark outputs ('-' for stdin).")],
    json_out: Json = False,
) -> None:
    """Turn OSU, nccl-tests, NEST and mpi4py.bench outputs into numbers.

    A table cut short (a killed job) or with a damaged row keeps its rows and is marked
    ``complete: false`` with the lines at fault; every row is printed, at any width.
    """
    from builder.bench.api import parse_paths
    from builder.bench.render import print_results

    report = parse_paths(files)
    if json_out:
        _print_json(report.to_json_dict())
    else:
        print_results(report, console)


@app.command()
def verify(run_dir: Annotated[Path, typer.Argument()], json_out: Json = False) -> None:
    """Verdict for a run directory: exit 0 pass, 1 fail, 2 could not judge."""
    from builder.verify.api import verify_run_dir
    from builder.verify.render import print_verdict

    verdict = verify_run_dir(run_dir)
    if json_out:
        _print_json(verdict.to_json_dict())
    else:
        print_verdict(verdict, console)
    raise typer.Exit(verdict.exit_code)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument()],
    html: Annotated[
        Path | None, typer.Option("--html", help="HTML file (default RUN_DIR/report.html).")
    ] = None,
) -> None:
    """Write the human report (HTML with plots, and a CSV of all numbers)."""
    from builder.report.api import write_report

    written = write_report(run_dir, html=html)
    for path in written:
        console.print(str(path))


@app.command()
def validate(
    site: SiteOpt,
    reps: Annotated[int, typer.Option("--reps", min=1)] = 3,
    runs: Annotated[Path, typer.Option("--runs")] = Path("runs"),
    resume: Annotated[Path | None, typer.Option("--resume")] = None,
    image: Annotated[
        Path | None,
        typer.Option("--image", help="Validate this image (e.g. pulled) instead of building one."),
    ] = None,
    json_out: Json = False,
) -> None:
    """Build (or take) the site's image, run the campaign, verify and report: the main job.

    Exit 0 pass, 1 fail, 2 could not judge; the report is written in every case. With
    ``--json`` standard output is the outcome (run directory, verdict, report) alone.
    """
    from builder.run.validate import validate_site

    outcome = validate_site(
        site,
        reps=reps,
        runs_root=runs,
        resume=resume,
        image=image,
        console=err_console if json_out else console,
    )
    if json_out:
        _print_json(outcome.model_dump(mode="json"))
    raise typer.Exit(outcome.exit_code)


def _emit_text(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    from builder.fsio import atomic_write_text

    atomic_write_text(output, text)
    err_console.print(f"wrote {output}", highlight=False)


def _emit_model(model: object, json_out: bool) -> None:
    from pydantic import BaseModel

    if not isinstance(model, BaseModel):
        console.print(model)
        return
    if json_out:
        _print_json(model.model_dump(mode="json", by_alias=True))
    else:
        for key, value in model.model_dump(mode="json", by_alias=True).items():
            console.print(f"[bold]{key}[/bold]: {value}", highlight=False)


def error_line(message: str) -> str:
    """The one line an error prints, whatever a library put into the message."""
    return "esdc: error: " + " ".join(message.split())


def _fail(message: str) -> NoReturn:
    err_console.print(error_line(message), markup=False, highlight=False, soft_wrap=True)
    raise SystemExit(2)


def main() -> None:
    """Entry point: run the app, turning known errors into one line and exit code 2."""
    try:
        app()
    except EsdcError as exc:
        if _state["debug"]:
            raise
        _fail(str(exc))
    except KeyboardInterrupt:
        err_console.print("esdc: interrupted")
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
