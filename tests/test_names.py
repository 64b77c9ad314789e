"""Names as agencies type them normalise to one form (issue #20.7)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.spark


def test_one_person_typed_seven_ways_has_one_normal_form(spark) -> None:
    from pyspark.sql import functions as F

    from jobs.resolve.normalize import normalize_name

    spellings = [
        "阿依古丽·买买提",
        "阿依古丽•买买提",
        "阿依古丽・买买提",
        "阿依古丽.买买提",
        "阿依古丽．买买提",
        "阿依古丽 · 买买提",
        "\u3000阿依古麗·買買提 ",  # traditional characters, full-width space
    ]
    df = spark.createDataFrame([(s,) for s in spellings], "name string")
    forms = {r["n"] for r in df.select(normalize_name(F.col("name")).alias("n")).collect()}
    assert forms == {"阿依古丽·买买提"}


def test_latin_full_stops_and_blank_names_are_left_alone(spark) -> None:
    from pyspark.sql import functions as F

    from jobs.resolve.normalize import normalize_name

    df = spark.createDataFrame([("J.Smith",), ("  ",), ("王 小 明",), ("ＬＩ　Ｍｉｎｇ",)], "name string")
    got = [r["n"] for r in df.select(normalize_name(F.col("name")).alias("n")).collect()]
    assert got == ["J.SMITH", None, "王小明", "LIMING"]
