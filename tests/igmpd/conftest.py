"""igmpd's test fixtures (defined in igmpd_testlib, a uniquely named module, because several
conftest.py files in tests/ would otherwise shadow each other as the module "conftest")."""

from igmpd_testlib import make_lab, start_igmpd

__all__ = ["make_lab", "start_igmpd"]
