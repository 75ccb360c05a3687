"""faultlab's harness: scenarios, faults, runner, assertions, pytest plugin and CLI.

The router (``igmpd``) never imports this package: the event catalog it shares with the harness
lives in ``igmpcatalog``.
"""
