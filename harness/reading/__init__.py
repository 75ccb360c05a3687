"""Readers of a scenario file's sections (harness.scenario_loader assembles them into ``_Builder``):
one module per section, each class adding its section to the ones below it."""
