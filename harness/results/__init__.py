"""The run directory's contract: every file a run (and a sweep, a baseline, a marks file) writes
and reads, owned here and nowhere else.

- `schema`: the typed models of results.json (`CompletedResults`, `FailedResults`), scores.jsonl
  rows and baseline files; the schema version; `ResultsError`.
- `run_dir`: the files of a run directory, the finished-run check and its lock, ``${unique_id:}``.
- `results_file`: results.json written from its model and read back checked; its structured fields.
- `scores`, `details`: scores.jsonl and the per-summary details in its rows.
- `summaries`: summaries.jsonl and references.jsonl.  `run_config`: resolved_config.yaml.
- `runs`: `Run` (one system output, shards merged), grouping, labels, typed accessors.
- `sweep`: the runs under paths (`load_runs`), a sweep's job directories, past runs.
- `intervals`, `metric_info`: each run's intervals, paired differences; metric metadata.
- `baseline`: baseline files, reader and writers together.  `marks`: marks files and placing marks.
"""
