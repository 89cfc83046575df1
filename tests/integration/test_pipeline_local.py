"""The GitLab pipeline users run (.gitlab-ci.yml), for real, with gitlab-ci-local's shell executor.

``make pipeline`` (scripts/pipeline-local.sh) runs generate -> build -> push -> validate ->
publish against the local site: Charliecloud build, Debian's docker-registry on 127.0.0.1,
``esdc validate --site local`` on the pulled image, a signed attestation and the retag of the
verified manifest; then ``esdc pull --verified-for local`` takes the image as a researcher would.
A broken job must fail the pipeline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from builder.profiles import project_root

pytestmark = pytest.mark.integration
#: A cold image build (debootstrap, Debian packages, the NEST wheel) took 820 s on a loaded
#: 2-core machine; the suite's default per-test limit is 600 s.
COLD_BUILD_TIMEOUT = 2400

SCRIPT = project_root() / "scripts" / "pipeline-local.sh"


def _tools_or_skip() -> None:
    gcl = project_root() / "node_modules" / ".bin" / "gitlab-ci-local"
    missing = [t for t in ("docker-registry", "ch-image", "ch-run", "mpirun", "git", "node")
               if not shutil.which(t)]  # fmt: skip
    if not gcl.exists():
        missing.append("gitlab-ci-local (npm ci)")
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")
    head = subprocess.run(
        ["git", "-C", str(project_root()), "rev-parse", "HEAD"], capture_output=True, check=False
    )
    if head.returncode != 0:
        pytest.skip("the pipeline runs a clone of HEAD: this is no git checkout")


def _pipeline(work: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run make pipeline's script; ``extra`` goes to gitlab-ci-local."""
    env = {**os.environ, "ESDC_PIPELINE_DIR": str(work)}
    return subprocess.run(
        ["bash", str(SCRIPT), *extra],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        env=env,
    )


@pytest.mark.timeout(COLD_BUILD_TIMEOUT)
def test_the_pipeline_runs_green_end_to_end(tmp_path: Path, noise_immune_thresholds: Path) -> None:
    _tools_or_skip()
    # Transport and sanity, not speed: the validate job judges with bounds this machine's noise
    # cannot fail (tests/conftest.py); no test asserts a performance ratio.
    done = _pipeline(tmp_path, "--variable", f"ESDC_THRESHOLDS_DIR={noise_immune_thresholds}")
    tail = (done.stdout + done.stderr)[-4000:]
    assert done.returncode == 0, tail
    project = tmp_path / "project"
    push = json.loads((project / "push.json").read_text())
    validate = json.loads((project / "validate.json").read_text())
    publish = json.loads((project / "publish.json").read_text())
    assert push["manifest_digest"].startswith("sha256:")
    assert validate["verdict"] == "pass" and Path(validate["report"]).name == "report.html"
    assert publish["digest"] == push["manifest_digest"], publish
    assert (project / "attest.json").is_file()
    # The researcher's side: the verified pull took exactly the validated bytes.
    verified = json.loads((tmp_path / "verified.json").read_text())
    assert verified["digest"] == push["digest"]
    catalog = (tmp_path / "catalog.json").read_text()
    assert push["manifest_digest"] in catalog and '"local"' in catalog, catalog[:2000]
    for job in ("generate", "build", "push", "validate", "publish"):
        assert f"{job} " in tail or job in done.stdout, job


@pytest.mark.timeout(COLD_BUILD_TIMEOUT)
def test_a_broken_job_fails_the_pipeline(tmp_path: Path) -> None:
    _tools_or_skip()
    done = _pipeline(tmp_path, "--variable", "ESD_SITE=no-such-site")
    assert done.returncode != 0
    assert "no-such-site" in done.stdout + done.stderr
