"""Running benchmark campaigns: launchers, schedulers, suites, run directories."""
