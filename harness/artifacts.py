"""The names of the files a run writes, in one place (docs/debugging.md describes each).

Per scenario, in its artifacts folder: what the runner, the router adapters and the reports
write and read back. Per run, at the top of the artifacts folder: the reports. Standard library
only, so the pytest plugin and the report generators can import it without weight.
"""

from __future__ import annotations

# -- one scenario's folder --------------------------------------------------------------------
EVENT_LOG_NAME = "events.jsonl"  # igmpd's event log (section 3 records, one JSON object a line)
STATE_NAME = "state.json"  # igmpd's state file
STDOUT_NAME = "router.stdout"  # the router's standard streams
STDERR_NAME = "router.stderr"
SCENARIO_NAME = "scenario.json"  # the scenario as resolved (the timers used)
VERDICT_NAME = "verdict.json"
OBSERVATION_NAME = "observation.json"  # faultlab compare: what one router did
PCAP_SUFFIX = ".pcap"  # one capture per link end, named after it

# -- the run's folder -------------------------------------------------------------------------
RESULTS_NAME = "results.json"
SUMMARY_NAME = "summary.md"
MATRIX_NAME = "fault-matrix.html"
REPORT_NAME = "report.html"
