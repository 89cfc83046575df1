"""Secrets never reach env.json: an allowlist of what explains a run, with credentials removed."""

from __future__ import annotations

import json

import pytest

from builder.run.environment import (
    OMITTED_KEY,
    REDACTED,
    clean_value,
    is_kept,
    is_secret_name,
    redact,
)


def test_secret_names_are_recognised() -> None:
    for name in ("GITLAB_TOKEN", "ESDC_UNICORE_TOKEN", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY",
                 "SSH_KEY", "MY_CREDENTIALS", "passwd", "CI_JOB_JWT"):  # fmt: skip
        assert is_secret_name(name), name
    for name in ("PATH", "UCX_LOG_LEVEL", "OMPI_MCA_pml", "HOME", "UCX_IB_PKEY"):
        assert not is_secret_name(name), name


def test_only_variables_that_explain_a_run_are_kept() -> None:
    for name in ("UCX_TLS", "FI_PROVIDER", "NCCL_DEBUG", "OMPI_MCA_pml", "PMIX_MCA_gds",
                 "I_MPI_FABRICS", "SLURM_JOB_ID", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS",
                 "LD_LIBRARY_PATH", "PATH", "MPICH_CH4_NETMOD"):  # fmt: skip
        assert is_kept(name), name
    for name in ("CI_REPOSITORY_URL", "HTTPS_PROXY", "HOME", "AWS_ACCESS_KEY_ID", "GIT_ASKPASS"):
        assert not is_kept(name), name


def test_redact_records_the_allowlist_and_the_names_left_out() -> None:
    env = {"PATH": "/bin", "ESDC_UNICORE_TOKEN": "s3cr3t", "UCX_TLS": "rc,sm", "HOME": "/root",
           "SLURM_AUTH_TOKEN": "t0k"}  # fmt: skip
    out = redact(env)
    assert out == {
        "PATH": "/bin",
        "SLURM_AUTH_TOKEN": REDACTED,
        "UCX_TLS": "rc,sm",
        OMITTED_KEY: ["ESDC_UNICORE_TOKEN", "HOME"],
    }
    assert "s3cr3t" not in repr(out) and "t0k" not in repr(out)


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ("https://u:p@host/x", f"https://{REDACTED}@host/x"),
        ("git+ssh://git@host:repo.git", f"git+ssh://{REDACTED}@host:repo.git"),
        ("/opt/ucx/lib:/usr/lib", "/opt/ucx/lib:/usr/lib"),
        ("https://h/x?a=1&access_token=zz&b=2", f"https://h/x?a=1&access_token={REDACTED}&b=2"),
        ("Bearer abcdefghijkl", REDACTED),
        ("rc,sm,self", "rc,sm,self"),
    ],
)
def test_values_lose_their_credentials(value: str, cleaned: str) -> None:
    assert clean_value(value) == cleaned


def test_no_secret_shape_survives_redaction(secret_shapes: list[tuple[str, str, str]]) -> None:
    env = {name: value for name, value, _ in secret_shapes}
    recorded = json.dumps(redact(env))
    assert len(secret_shapes) >= 10
    for name, _, secret in secret_shapes:
        assert secret not in recorded, name
