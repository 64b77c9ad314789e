"""Planted cases and look-alike traps, one module per domain."""

from __future__ import annotations

from qingfeng.synth.district import District


def plant_all(d: District) -> None:
    from qingfeng.synth.plants import assets, engineering, payroll, resolution, subsidy

    for module in (subsidy, engineering, assets, payroll, resolution):
        module.plant(d)
