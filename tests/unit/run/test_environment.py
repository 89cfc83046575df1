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

#: Secrets in the shapes a CI job's environment carries them: (variable, value, the secret part).
SECRET_SHAPES: list[tuple[str, str, str]] = [
    ("CI_REPOSITORY_URL", "https://gitlab-ci-token:glcbt-64_s3cretJobTok@gitlab.example/g/p.git",
     "glcbt-64_s3cretJobTok"),
    ("CI_JOB_TOKEN", "jobtok-4f1d2a", "jobtok-4f1d2a"),
    ("ESDC_REGISTRY_PASSWORD", "regpass-9c8b", "regpass-9c8b"),
    ("HTTPS_PROXY", "http://alice:proxypass-77@proxy.example:3128", "proxypass-77"),
    ("http_proxy", "http://bob:lowerproxy-55@proxy.example:3128", "lowerproxy-55"),
    ("UCX_PROXY_URL", "http://carol:ucxproxy-33@proxy.example:3128", "ucxproxy-33"),
    ("SLURM_JOB_COMMENT", "Authorization: Bearer bearer-abcdef123456", "bearer-abcdef123456"),
    ("NCCL_PLUGIN_HEADER", "Bearer zyxwvu9876543", "zyxwvu9876543"),
    ("CI_JOB_JWT", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJqb2IifQ.c2lnbmF0dXJl", "eyJhbGciOiJSUzI1NiJ9"),
    ("OMPI_MCA_opal_url", "https://host.example/x?token=querytok-123&a=1", "querytok-123"),
    ("PIP_INDEX_URL", "https://dave:pipindex-42@pypi.example/simple", "pipindex-42"),
    ("AWS_SECRET_ACCESS_KEY", "awssecret-0000", "awssecret-0000"),
    ("GITHUB_PAT", "ghp_abcdefghijklmnop1234", "ghp_abcdefghijklmnop1234"),
    ("DOCKER_AUTH_CONFIG", '{"auths":{"r":{"auth":"ZG9ja2VyYXV0aA=="}}}', "ZG9ja2VyYXV0aA=="),
    ("FI_PRIVATE_THING", "-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n", "MC4CAQAw"),
]  # fmt: skip


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


def test_no_secret_shape_survives_redaction() -> None:
    env = {name: value for name, value, _ in SECRET_SHAPES}
    recorded = json.dumps(redact(env))
    assert len(SECRET_SHAPES) >= 10
    for name, _, secret in SECRET_SHAPES:
        assert secret not in recorded, name
