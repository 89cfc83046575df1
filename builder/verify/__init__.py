"""Differential transport check plus performance thresholds: a run directory becomes a Verdict."""
