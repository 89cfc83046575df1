"""``esdc bench``: a paired bare-metal and container campaign, written into a run directory.

For each suite that applies, one logging run per mode (the profile's ``debug_environment``:
UCX/libfabric/NCCL logs and Open MPI verbosity) and ``reps`` quiet performance runs per mode,
interleaved (see :mod:`builder.run.plan`). Every rep leaves ``stdout``, ``stderr``,
``env.json`` (secrets redacted), ``versions.json`` and, last and atomically, ``record.json``.
``--resume`` skips reps whose record exists. Ctrl-C (or SIGTERM) stops the running job's whole
process group, marks the campaign ``interrupted`` and leaves it resumable.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from builder import __version__
from builder.errors import EsdcError
from builder.fsio import atomic_write_json, atomic_write_text
from builder.model.evidence import RunEvidence
from builder.model.run import CampaignManifest, Mode, RunRecord
from builder.model.site import SiteProfile
from builder.run import rundir
from builder.run.contracts import RankRuntime
from builder.run.environment import redact
from builder.run.evidence import TOKEN_VARIABLE, RankSampler, counter_delta, read_counters
from builder.run.jobs import JobOutcome, JobSpec, LaunchPlan
from builder.run.launchers import HostLayout, Launcher, launcher_for
from builder.run.plan import PlannedRep, plan_campaign
from builder.run.probe import (
    BENCHMARKS_MOUNT,
    Versions,
    benchmarks_dir,
    collect_versions,
    host_binary_in_image,
    host_tools,
    image_tools,
    pair_scripts,
    run_probe,
)
from builder.run.schedulers.base import Scheduler, utc_now
from builder.run.singleton import singleton_evidence
from builder.run.suites import (
    SuiteRun,
    missing_tools,
    resolve_program,
    select_suites,
    site_reason_to_skip,
)
from builder.signals import sigterm_as_interrupt

Tools = Mapping[str, Sequence[str] | None]


@dataclass(frozen=True)
class CampaignSetup:
    """Everything a campaign needs, resolved once: the edges are behind these fields."""

    site: SiteProfile
    image: str
    launcher: Launcher
    scheduler: Scheduler
    runtime: RankRuntime
    tools: Mapping[Mode, Tools]
    versions: Mapping[Mode, Mapping[str, Versions]]
    #: Variables every job needs whatever the profile says (``USER`` for ``ch-run``).
    base_environment: Mapping[str, str] = field(default_factory=dict)
    #: Extra binds of container ranks (host-built benchmarks the image lacks).
    container_binds: tuple[str, ...] = ()
    #: Test hosts' network namespaces (host name -> namespace) whose counters are read too.
    counter_namespaces: Mapping[str, str] = field(default_factory=dict)
    #: Whether logging runs collect evidence beside the logs (process maps, counters).
    evidence: bool = True


def job_for(setup: CampaignSetup, planned: PlannedRep, suite: SuiteRun) -> JobSpec:
    """The job of one rep (pure): resolved program, container wrapping, environment."""
    program = resolve_program(suite.argv(debug=planned.kind == "debug"), setup.tools[planned.mode])
    environment = {**setup.base_environment, **setup.site.environment}
    if planned.mode == "container":
        environment.update(setup.site.runtime.environment)
        program = setup.runtime.exec_argv(
            setup.image,
            program,
            binds=(*setup.site.runtime.binds, *setup.container_binds),
            # Only ranks a launcher started have a peer group to join.
            join=setup.site.runtime.join_namespace and suite.launched,
            gpu=setup.site.gpus is not None,
        )
    if planned.kind == "debug":
        environment.update(setup.site.debug_environment)
    gpus = 0
    if suite.needs_gpu and setup.site.gpus is not None:
        gpus = min(setup.site.gpus.per_node, suite.ranks)
    return JobSpec(
        name=f"esdc-{planned.mode}-{planned.suite}-{planned.rep}",
        gpus_per_node=gpus,
        program=program,
        ranks=suite.ranks,
        nodes=suite.nodes,
        environment=environment,
        timeout_s=suite.timeout_s,
    )


def execute_rep(
    setup: CampaignSetup, planned: PlannedRep, suite: SuiteRun, folder: Path
) -> RunRecord:
    """Run one rep into ``folder`` and write its record last; returns the record."""
    clock = time.perf_counter()
    rundir.reset_rep(folder)
    job = job_for(setup, planned, suite)
    if planned.kind == "debug" and setup.evidence:
        outcome, plan = _run_with_evidence(setup, job, folder, launched=suite.launched)
    else:
        plan = render_plan(setup, job, launched=suite.launched)
        outcome = setup.scheduler.run(plan, folder)
    returncode = outcome.returncode
    problem = _failure(folder, plan.ranks, outcome.timed_out, suite.timeout_s)
    if problem is not None:
        atomic_write_text(folder / rundir.FAILURE_NAME, problem + "\n")
        if returncode == 0:
            returncode = 1  # a job that "succeeded" as N singletons did not succeed
    atomic_write_json(folder / rundir.ENV_NAME, redact({**os.environ, **plan.environment}))
    atomic_write_json(
        folder / rundir.VERSIONS_NAME,
        {where: v.model_dump(mode="json") for where, v in setup.versions[planned.mode].items()},
    )
    record = RunRecord(
        mode=planned.mode,
        suite=planned.suite,
        rep=planned.rep,
        kind=planned.kind,
        command=plan.argv,
        returncode=returncode,
        started=outcome.started,
        ended=outcome.ended,
        wall_s=round(outcome.wall_s, 6),
        debug_logs=["stdout", "stderr"] if planned.kind == "debug" else [],
        toolkit_overhead_s=round(max(0.0, time.perf_counter() - clock - outcome.wall_s), 6),
    )
    rundir.write_record(folder, record)
    return record


def render_plan(setup: CampaignSetup, job: JobSpec, *, launched: bool) -> LaunchPlan:
    """The launcher's command for ``job``, or the program itself for an unlaunched suite."""
    if launched:
        return setup.launcher.render(job)
    return LaunchPlan(
        argv=job.program,
        environment=job.environment,
        ranks=job.ranks,
        nodes=1,
        name=job.name,
        timeout_s=job.timeout_s,
    )


def _run_with_evidence(
    setup: CampaignSetup, job: JobSpec, folder: Path, *, launched: bool
) -> tuple[JobOutcome, LaunchPlan]:
    """Run a logging job while sampling its ranks and reading counters before and after.

    The ranks are found by a token in their environment; ``evidence.json`` lands beside the
    logs. Evidence that cannot be read is noted there, never a reason to fail the job.
    """
    token = secrets.token_hex(8)
    job = job.model_copy(update={"environment": {**job.environment, TOKEN_VARIABLE: token}})
    plan = render_plan(setup, job, launched=launched)
    before = read_counters(setup.counter_namespaces)
    with RankSampler(token) as sampler:
        outcome = setup.scheduler.run(plan, folder)
    after = read_counters(setup.counter_namespaces)
    notes = [] if sampler.found else ["no rank process seen (another node, or too short a run)"]
    evidence = RunEvidence(
        processes=sampler.processes(), counters=counter_delta(before, after), notes=notes
    )
    atomic_write_json(
        folder / rundir.EVIDENCE_NAME, evidence.model_dump(mode="json", by_alias=True)
    )
    return outcome, plan


def _failure(folder: Path, ranks: int, timed_out: bool, timeout_s: float) -> str | None:
    if timed_out:
        return f"timed out after {timeout_s:.0f} s; the job's process group was killed"
    lines: list[str] = []
    for name in ("stdout", "stderr"):
        with contextlib.suppress(OSError):
            lines += (folder / name).read_text(errors="replace").splitlines()
    return singleton_evidence(lines, ranks)


def absolute_if_path(image: str) -> str:
    """``image`` made absolute when it names an existing file or directory (else a tag)."""
    candidate = Path(image)
    return str(candidate.resolve()) if candidate.exists() else image


def run_campaign(
    site: str,
    image: str,
    *,
    suites: Sequence[str] | None,
    reps: int,
    resume: Path | None,
    runs_root: Path,
    console: Console | None = None,
    runtime: RankRuntime | None = None,
    image_digest: str | None = None,
) -> Path:
    """Run (or resume) a campaign and return its run directory.

    Parameters
    ----------
    site
        Site profile name.
    image
        The image to benchmark (a Charliecloud image name or an image file).
    suites
        Suite names or families; ``None`` for every suite that applies.
    reps
        Quiet performance repetitions per mode.
    resume
        An existing run directory to continue; its manifest decides suites and reps.
    runs_root
        Where new run directories are created.
    console
        Where progress goes (standard error by default).
    runtime
        The container runtime (default: the site's, from :mod:`builder.build`).
    image_digest
        The image's digest when the caller knows it (directory images); image files are hashed.
    """
    from builder.profiles import load_site

    return run_site_campaign(
        load_site(site),
        image,
        suites=suites,
        reps=reps,
        resume=resume,
        runs_root=runs_root,
        console=console,
        runtime=runtime,
        image_digest=image_digest,
    )


def run_site_campaign(
    profile: SiteProfile,
    image: str,
    *,
    suites: Sequence[str] | None,
    reps: int,
    resume: Path | None,
    runs_root: Path,
    console: Console | None = None,
    runtime: RankRuntime | None = None,
    image_digest: str | None = None,
) -> Path:
    """:func:`run_campaign` for a site profile already loaded (same parameters)."""
    console = console or Console(stderr=True)
    # Jobs run in their rep directories: every path they are given must be absolute.
    runs_root = runs_root.resolve()
    resume = resume.resolve() if resume is not None else None
    image = absolute_if_path(image)
    # Mistakes in the arguments fail before any probe or host setup.
    if resume is not None:
        _check_resumable(rundir.read_manifest(resume), profile.name, image, resume)
    else:
        select_suites(suites)
    rank_runtime = runtime if runtime is not None else _site_runtime(profile)
    with contextlib.ExitStack() as stack:
        hosts = _hosts(profile, stack)
        setup = prepare_setup(
            profile, image, rank_runtime, hosts=hosts, cache_dir=runs_root / ".cache"
        )
        run_dir, manifest = _open_run_dir(
            setup, suites, reps, resume, runs_root, console, image_digest
        )
        _preflight(setup, run_dir, console)
        chosen = select_suites(manifest.suites)
        _run_all(setup, run_dir, manifest, chosen, console)
    return run_dir


def prepare_setup(
    profile: SiteProfile,
    image: str,
    runtime: RankRuntime,
    *,
    hosts: HostLayout | None = None,
    cache_dir: Path,
) -> CampaignSetup:
    """Probe the host and the image once and choose launcher and scheduler."""
    from builder.run.schedulers.select import scheduler_for

    def in_image(argv: list[str]) -> list[str]:
        return runtime.exec_argv(image, argv)

    def on_host(argv: list[str]) -> list[str]:
        return argv

    base_environment = required_environment(os.environ)
    probe_env = {**os.environ, **base_environment}

    def runner(argv: Sequence[str]) -> tuple[int, str]:
        return run_probe(argv, probe_env)

    def in_image_bound(argv: list[str], bind: str) -> list[str]:
        return runtime.exec_argv(image, argv, binds=(bind,))

    code, out = runner(in_image(["true"]))
    if code != 0:
        last = out.strip().splitlines()[-1] if out.strip() else f"exit status {code}"
        raise EsdcError(f"cannot run a command in the image: {last}", where=image)
    host_versions = collect_versions("host", on_host, runner)
    image_versions = collect_versions("image", in_image, runner)
    on_host_tools, in_image_tools, bind_benchmarks = pair_scripts(
        host_tools(cache_dir, runner), image_tools(in_image, runner)
    )
    binds: tuple[str, ...] = (f"{benchmarks_dir()}:{BENCHMARKS_MOUNT}",) if bind_benchmarks else ()
    host_pingpong = on_host_tools.get("pingpong")
    if in_image_tools.get("pingpong") is None and host_pingpong:
        bound = host_binary_in_image(host_pingpong[0], in_image_bound, runner)
        if bound is not None:
            in_image_tools["pingpong"], bind = bound
            binds = (*binds, bind)
    return CampaignSetup(
        site=profile,
        image=image,
        launcher=launcher_for(profile, as_root=os.geteuid() == 0, hosts=hosts),
        scheduler=scheduler_for(profile),
        runtime=runtime,
        tools={"bare": on_host_tools, "container": in_image_tools},
        versions={
            "bare": {"host": host_versions},
            "container": {
                "host": host_versions,
                "image": image_versions,
                "runtime": _runtime_versions(runtime),
            },
        },
        base_environment=base_environment,
        container_binds=binds,
        counter_namespaces=dict(hosts.namespaces) if hosts is not None else {},
    )


def required_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """Variables the jobs need that ``environment`` lacks (reads the password database).

    ``ch-run`` refuses to start without ``USER`` (design.md), which root shells and batch
    environments often do not set.
    """
    if environment.get("USER"):
        return {}
    import pwd

    return {"USER": pwd.getpwuid(os.geteuid()).pw_name}


def applicable(
    setup: CampaignSetup, wanted: Sequence[SuiteRun]
) -> tuple[list[SuiteRun], dict[str, str]]:
    """The suites that can run in both modes, and why the others cannot (pure)."""
    chosen: list[SuiteRun] = []
    skipped: dict[str, str] = {}
    for suite in wanted:
        reason = site_reason_to_skip(suite, setup.site)
        if reason is None:
            for mode, where in (("bare", "on the host"), ("container", "in the image")):
                missing = missing_tools(suite, setup.tools[mode])  # type: ignore[index]
                if missing:
                    reason = f"{', '.join(missing)} not found {where}"
                    break
        if reason is None:
            chosen.append(suite)
        else:
            skipped[suite.name] = reason
    return chosen, skipped


def _open_run_dir(
    setup: CampaignSetup,
    suites: Sequence[str] | None,
    reps: int,
    resume: Path | None,
    runs_root: Path,
    console: Console,
    image_digest: str | None,
) -> tuple[Path, CampaignManifest]:
    if resume is not None:
        manifest = rundir.read_manifest(resume)
        _check_resumable(manifest, setup.site.name, setup.image, resume)
        return resume, manifest
    chosen, skipped = applicable(setup, select_suites(suites))
    for name, reason in skipped.items():
        console.print(f"skipping suite {name}: {reason}", highlight=False)
    if not chosen:
        raise EsdcError(
            "no suite applies: " + "; ".join(f"{n}: {r}" for n, r in skipped.items()),
            where=f"site {setup.site.name}",
        )
    run_id = rundir.new_run_id(setup.site.name)
    run_dir = runs_root / run_id
    run_dir.mkdir(parents=True)
    manifest = CampaignManifest(
        id=run_id,
        site=setup.site.name,
        image=setup.image,
        image_digest=image_digest or _image_digest(setup.image),
        suites=[s.name for s in chosen],
        reps=reps,
        created=utc_now(),
        toolkit_version=__version__,
        host=socket.gethostname(),
    )
    atomic_write_json(run_dir / rundir.SKIPPED_NAME, skipped)
    atomic_write_json(run_dir / rundir.REQUIRED_NAME, list(setup.site.required_suites))
    rundir.write_manifest(run_dir, manifest)
    return run_dir, manifest


def _preflight(setup: CampaignSetup, run_dir: Path, console: Console) -> None:
    """Check the image against the site before any suite runs; write and print the results."""
    from builder.run.preflight import PREFLIGHT_FILE, run_preflight

    def in_image(argv: list[str]) -> list[str]:
        # One process, outside any launcher: ch-run --join would find no peer group to join.
        return setup.runtime.exec_argv(
            setup.image,
            argv,
            binds=(*setup.site.runtime.binds, *setup.container_binds),
            gpu=setup.site.gpus is not None,
        )

    results = run_preflight(
        setup.site, in_image, run_probe, {**os.environ, **setup.base_environment}
    )
    atomic_write_json(run_dir / PREFLIGHT_FILE, [r.model_dump(mode="json") for r in results])
    for result in results:
        style = {"ok": "green", "skipped": "dim", "warning": "yellow"}.get(result.status, "red")
        console.print(
            f"pre-flight [{style}]{result.status}[/] {escape(result.check)}: "
            f"{escape(result.message)}",
            highlight=False,
            soft_wrap=True,  # a CI log gets whole lines
        )


def _check_resumable(manifest: CampaignManifest, site: str, image: str, run_dir: Path) -> None:
    """Refuse to continue a campaign with another site or image (its pairs would mix)."""
    if manifest.site != site or manifest.image != image:
        raise EsdcError(
            f"run directory is for site {manifest.site} and image {manifest.image}, "
            f"not {site} and {image}",
            where=run_dir,
        )


def _run_all(
    setup: CampaignSetup,
    run_dir: Path,
    manifest: CampaignManifest,
    suites: Sequence[SuiteRun],
    console: Console,
) -> None:
    by_name = {s.name: s for s in suites}
    planned = plan_campaign([s.name for s in suites], manifest.reps)
    rundir.write_manifest(run_dir, manifest.model_copy(update={"status": "running"}))
    status = "failed"
    try:
        with sigterm_as_interrupt(), _progress(console) as progress:
            task = progress.add_task("campaign", total=len(planned))
            for item in planned:
                folder = rundir.rep_dir(run_dir, item.mode, item.suite, item.rep)
                if rundir.is_complete(folder):
                    progress.advance(task)
                    continue
                progress.update(task, description=item.label)
                record = execute_rep(setup, item, by_name[item.suite], folder)
                if record.returncode != 0:
                    console.print(f"{item.label}: exit {record.returncode}", highlight=False)
                progress.advance(task)
        status = "complete"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        rundir.write_manifest(run_dir, manifest.model_copy(update={"status": status}))


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _runtime_versions(runtime: RankRuntime) -> Versions:
    """The container runtime's own versions (``ch-run``, ``apptainer``) where it reports them."""
    report = getattr(runtime, "versions", None)
    found = report() if callable(report) else {}
    return Versions(where="runtime", libraries={str(k): str(v) for k, v in dict(found).items()})


def _image_digest(image: str) -> str | None:
    path = Path(image)
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


def _hosts(profile: SiteProfile, stack: contextlib.ExitStack) -> HostLayout | None:
    """Network-namespace hosts for a local site that declares more than one node."""
    if profile.scheduler != "local" or len(profile.nodes) < 2:
        return None
    from builder.run.netns import NetnsHosts

    net = stack.enter_context(NetnsHosts(len(profile.nodes), names=[n.name for n in profile.nodes]))
    return HostLayout(
        hostfile=str(net.hostfile()),
        rsh_agent=str(net.rsh_agent),
        network=str(net.subnet),
        prefix=tuple(net.exec_argv(net.hosts[0], [])),
        namespaces=tuple((h.name, h.netns) for h in net.hosts),
    )


def _site_runtime(profile: SiteProfile) -> RankRuntime:
    from builder.build.runtime import runtime_for

    runtime: RankRuntime = runtime_for(profile)
    return runtime
