"""Field failures, both ways: a router's pasted log lines or a Windows event export become
scenarios; a Linux run becomes events.

``faultlab reproduce LOGFILE|-`` reads the log lines a user pasted (igmpproxy, smcroute, pimd,
FRR, igmpd; syslog, journal, docker logs, plain stderr): ``logtext`` takes the noise off,
``routerlogs`` is the one place the router's patterns are reached (the same a run maps its log
with) and the identification table, ``platforms`` reads FreeBSD's errno numbers, ``fieldlog``
turns lines into failures (router, call, errno, interface or role, count) and lists the lines it
cannot map, ``causes`` chooses the cause (the fault table's, with its evidence; never one the
router does not meet), ``logwrite`` writes the scenarios, ``run`` runs them (in the kernel lab
when this host lacks multicast routing).

``faultlab reproduce EXPORT`` reads an export (harness.winevents), picks the RRAS IGMPv2
socket-operation events, and writes one scenario per distinct (event, interface address, error
code): the router's interfaces at the field addresses (or a documented private mapping), the fault
that yields the same errno at the same step (a real cause from the fault table when it has one,
else an exact syscall error), and the expectation of the same event with the same error. Events it
cannot map are listed with the reason, never dropped.

``faultlab events --format windows-xml ARTIFACTS_DIR`` goes the other way: it writes a run's event
log as Windows Event XML, so that a Linux run can be put beside the field export (and read back by
``reproduce``: the round trip keeps ID, level, insertion strings and the Winsock code).

One job per module, in the order data flows:

- ``classify``: exported events -> field failures (and the events left out, with why);
- ``plan``: field addresses -> lab interfaces and addresses;
- ``choose``: a field failure -> the fault that reproduces it (read from the fault table/classes);
- ``write``: the scenario document and its YAML file; the whole export (``reproduce_export``);
- ``yamlout``: YAML in the docs' style, for both writers (``write`` and ``logwrite``);
- ``nevermeets``: the causes a router's design never meets, which neither way chooses;
- ``run``: ``--run``, one written scenario's verdict;
- ``export``: ``faultlab events``, a run's event log as Windows Event XML, JSON lines or text;
- ``cli``: both subcommands' arguments and output (``register``, harness.cli.EXTENSIONS).

The package itself imports nothing: each user imports the module of its job, so that listing
faultlab's commands does not load the fault table.

See docs/reproduce.md for what each export format can carry and how addresses are mapped.
"""
