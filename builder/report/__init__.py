"""Human reports of a run directory: one self-contained HTML page with inline SVG plots, and CSV."""
