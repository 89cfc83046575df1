"""Schedulers: where a rendered job runs (this machine, Slurm, UNICORE)."""
