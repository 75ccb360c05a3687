"""``faultlab explore``: every socket call a router makes, every error it can get (issue 15).

    discover  run the scenario with no fault; the supervisor records every socket call
    baseline  that healthy run measured: queries and their period per interface, joins, log
    plan      per call site, the errors its call can return (errnos.py, the one table)
    run       each (site, errno) as its own scenario, in parallel workers; judge the reaction
    classify  reported / vague / silent / tolerated / unjudged / exit N / crash (signal);
              recovered or not
    report    the call site x errno matrix (HTML section of report.html, Markdown, JSON)
    cli       the command line (registered in harness.cli's EXTENSIONS)

Its two fault kinds (``explore-record``, ``explore-fault``) live in harness.faults.explore and are
registered with every other kind in ``harness.faults.FAULT_KINDS``.
"""
