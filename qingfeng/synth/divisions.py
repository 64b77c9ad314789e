"""How a clerk types a 镇街 and 村社 (issue #20): the district prefix, a dropped 街道 or 镇, 办事处 or
人民政府 after a town, 村委会 after a village, the town before the village. Only forms the resolve
stage's gazetteer maps back (jobs/resolve/divisions.py), so every planted case is still found."""

from __future__ import annotations

import zlib

DISTRICT = "萧山区"
DIVISION_NOISE_RATE = 0.03


def _office(town: str) -> str:
    return town + ("办事处" if town.endswith("街道") else "人民政府")


def _bare(town: str) -> str:
    return town.removesuffix("街道") if town.endswith("街道") else town.removesuffix("镇")


STYLES = (
    lambda t, v: (DISTRICT + t, v),
    lambda t, v: ("杭州市" + DISTRICT + t, v),
    lambda t, v: (_bare(t), v),
    lambda t, v: (_office(t), v),
    lambda t, v: (t, v + "村民委员会" if v else v),
    lambda t, v: (t, v.removesuffix("村") + "村委会" if v else v),
    lambda t, v: (t, t + v if v else v),
)


def spelled_division(town: str, village: str, salt: str) -> tuple[str, str]:
    """The (town, village) one row shows: mostly as the registry has them, sometimes in one of the
    agencies' spellings. Chosen by a hash of the row, not the district's random stream, so the rest
    of the district keeps its bytes."""
    h = zlib.crc32(f"{town}|{village}|{salt}".encode())
    if (h % 10_000) >= DIVISION_NOISE_RATE * 10_000:
        return town, village
    return STYLES[(h // 10_000) % len(STYLES)](town, village)
