"""`make bench`: qualdash against what a requester would otherwise run (see bench/run.py)."""
