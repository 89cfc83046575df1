"""Secrets never reach env.json: values of secret-named variables are redacted."""

from __future__ import annotations

from builder.run.environment import REDACTED, is_secret_name, redact


def test_secret_names_are_recognised() -> None:
    for name in ("GITLAB_TOKEN", "ESDC_UNICORE_TOKEN", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY",
                 "SSH_KEY", "MY_CREDENTIALS", "passwd"):  # fmt: skip
        assert is_secret_name(name), name
    for name in ("PATH", "UCX_LOG_LEVEL", "OMPI_MCA_pml", "HOME"):
        assert not is_secret_name(name), name


def test_redact_keeps_names_and_hides_values() -> None:
    env = {"PATH": "/bin", "ESDC_UNICORE_TOKEN": "s3cr3t", "API_KEY": "k"}
    out = redact(env)
    assert out == {"API_KEY": REDACTED, "ESDC_UNICORE_TOKEN": REDACTED, "PATH": "/bin"}
    assert "s3cr3t" not in repr(out)
