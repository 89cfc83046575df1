"""esd-containers: generate, build, ship, benchmark and verify EBRAINS Software Distribution
images."""

__version__ = "0.1.0"
