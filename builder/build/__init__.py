"""Build images: container runtimes (Apptainer through spython, Charliecloud), provenance, SBOM."""
