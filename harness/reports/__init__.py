"""Reports: the run report, and the leaderboard over a sweep's runs."""
