"""faultlab's harness: scenarios, faults, runner, assertions, pytest plugin and CLI.

Importing this package is cheap on purpose (the router imports ``harness.catalog``).
"""
