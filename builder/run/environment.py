"""The environment a job ran with, as recorded in ``env.json``: what explains a run, no secrets.

A run directory is kept for months (the GitLab pipeline keeps ``runs/`` for 90 days) and read by
people who never saw the job's environment, so ``env.json`` keeps an allowlist, never the whole
environment:

- variables whose prefix names a library or service that shapes the run
  (:data:`KEPT_PREFIXES`: ``UCX_``, ``FI_``, ``NCCL_``, ``OMPI_``, ``PMIX_``, ``I_MPI_``,
  ``SLURM_``, ``CUDA_``, ``OMP_``...),
- a few exact names (:data:`KEPT_NAMES`: ``PATH``, ``LD_LIBRARY_PATH``, ``LD_PRELOAD``...).

Even then a value can carry a credential, so every kept value is cleaned:

- a variable whose *name* says it holds a secret (``*_TOKEN``, ``*_PASSWORD``, ``*KEY*``...) is
  recorded as ``<redacted>``;
- a value that holds an ``Authorization``/``Bearer``/``Basic`` credential, a JSON web token or a
  private key is recorded as ``<redacted>``;
- URLs keep scheme, host and path but lose their userinfo (``https://<redacted>@host/...``) and the
  values of query parameters that name a secret (``?token=<redacted>``).

Everything else (``CI_REPOSITORY_URL``, ``HTTPS_PROXY``, ``AWS_*``, ``HOME``...) is left out, and
``env.json`` lists the names it left out under ``"_omitted"`` so a reader knows they were set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Prefixes of variables that explain a run: MPI, fabrics, PMI, schedulers, GPUs, threading,
#: container runtimes. One row per family; extend here.
KEPT_PREFIXES: tuple[str, ...] = (
    # Open MPI, PRRTE, PMIx, MPICH, Intel MPI, Cray MPICH
    "OMPI_", "OPAL_", "ORTE_", "PRTE_", "PMIX_", "PMI_", "MPICH_", "MPIR_", "MPIEXEC_",
    "HYDRA_", "I_MPI_", "FI_", "MPI_",
    # fabrics and their user-space drivers
    "UCX_", "NCCL_", "PSM2_", "PSM3_", "HFI_", "MLX5_", "IBV_", "RDMAV_", "CXI_", "GDRCOPY_",
    # schedulers and launchers
    "SLURM_", "SRUN_", "SBATCH_", "SALLOC_", "PBS_", "UNICORE_",
    # accelerators
    "CUDA_", "NVIDIA_", "ROCR_", "HIP_", "ZE_",
    # threading and numerics
    "OMP_", "KMP_", "GOMP_", "MKL_", "OPENBLAS_",
    # container runtimes
    "APPTAINER_", "SINGULARITY_", "CH_RUN_", "CH_IMAGE_",
    # the benchmarks
    "NEST_", "OSU_",
)  # fmt: skip
#: Exact names that explain a run.
KEPT_NAMES: frozenset[str] = frozenset(
    {
        "PATH", "LD_LIBRARY_PATH", "LD_PRELOAD", "LIBRARY_PATH", "PYTHONPATH", "PYTHONHOME",
        "VIRTUAL_ENV", "USER", "LOGNAME", "HOSTNAME", "LANG", "LC_ALL", "TMPDIR", "SHELL",
        "MODULEPATH", "LOADEDMODULES", "SPACK_ENV", "CPATH", "OMPI_MCA_PARAM_FILES",
    }
)  # fmt: skip

#: Variable names that hold secrets; their values never reach a run directory.
SECRET_NAME = re.compile(
    r"TOKEN|PASSW(OR)?D|PASSPHRASE|SECRET|(?<!P)KEY|CREDENTIAL|AUTH|COOKIE|SESSION|JWT|PRIVATE",
    re.IGNORECASE,
)
#: Values that are credentials whatever their variable is called.
SECRET_VALUE = re.compile(
    r"\b(?:Bearer|Basic|Token|Negotiate)\s+\S{8,}"  # Authorization header values
    r"|\bauthorization\s*[:=]"  # a header line pasted into a variable
    r"|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # a JSON web token
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|\b(?:gh[pousr]|glpat|glcbt|gldt|xox[abp])[-_][A-Za-z0-9_-]{10,}",  # vendor token shapes
    re.IGNORECASE,
)
#: ``scheme://user[:password]@`` inside a value (git remotes, proxies, index URLs).
URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
#: Query parameters that carry a secret: ``?token=...``, ``&X-Amz-Signature=...``.
SECRET_QUERY = re.compile(
    r"(?P<key>[?&;](?:[^=&;#\s]*(?:token|passw|secret|key|auth|sig|credential|session)"
    r"[^=&;#\s]*)=)[^&;#\s]*",
    re.IGNORECASE,
)
#: Value recorded in place of a secret, so readers can see the variable was set.
REDACTED = "<redacted>"
#: Key under which ``env.json`` lists the names of variables it left out.
OMITTED_KEY = "_omitted"


def is_secret_name(name: str) -> bool:
    """Whether a variable's name says it holds a secret (``GITLAB_TOKEN``, ``SSH_KEY``...)."""
    return SECRET_NAME.search(name) is not None


def is_kept(name: str) -> bool:
    """Whether ``name`` is on the allowlist of variables that explain a run."""
    return name in KEPT_NAMES or name.startswith(KEPT_PREFIXES)


def clean_value(value: str) -> str:
    """``value`` with credentials removed: whole-value secrets, URL userinfo, secret parameters."""
    if SECRET_VALUE.search(value):
        return REDACTED
    value = URL_USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", value)
    return SECRET_QUERY.sub(lambda m: f"{m['key']}{REDACTED}", value)


def redact(environment: Mapping[str, str]) -> dict[str, object]:
    """What ``env.json`` records of ``environment`` (pure): the allowlist, cleaned.

    Returns the kept variables by name, then :data:`OMITTED_KEY` with the sorted names of the
    variables left out (names only: a name is not a secret, and knowing it was set can explain
    a run).
    """
    kept: dict[str, object] = {}
    omitted: list[str] = []
    for name, value in sorted(environment.items()):
        if not is_kept(name):
            omitted.append(name)
        elif is_secret_name(name):
            kept[name] = REDACTED
        else:
            kept[name] = clean_value(value)
    kept[OMITTED_KEY] = omitted
    return kept
