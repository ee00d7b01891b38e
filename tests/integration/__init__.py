"""Tests of whole runs: ingests, materializes, servers, CLI processes, kills, the dashboard."""
