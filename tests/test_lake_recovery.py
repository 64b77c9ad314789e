"""A replace killed between its two renames leaves the old table recoverable, never missing."""

from __future__ import annotations

from qingfeng import lake


def test_interrupted_replace_restores_the_old_table(settings) -> None:
    target = settings.zone("curated") / "person"
    orphan = target.with_name(".person.old-1a2b3c4d")
    orphan.mkdir(parents=True)
    (orphan / "part-0.parquet").write_bytes(b"old content")

    assert lake.exists(settings, "curated", "person")
    assert (target / "part-0.parquet").read_bytes() == b"old content"
    assert not orphan.exists()


def test_a_complete_table_is_left_alone(settings) -> None:
    target = settings.zone("curated") / "person"
    target.mkdir(parents=True)
    (target / "part-0.parquet").write_bytes(b"new")
    stale = target.with_name(".person.old-deadbeef")
    stale.mkdir()

    assert lake.exists(settings, "curated", "person")
    assert (target / "part-0.parquet").read_bytes() == b"new"
    assert stale.exists()  # left for the next replace to remove, not mixed in


def test_the_next_write_removes_leftovers(settings) -> None:
    target = settings.zone("curated") / "person"
    target.mkdir(parents=True)
    for name in (".person.old-deadbeef", ".person.tmp-cafebabe"):
        (target.parent / name).mkdir()

    staged = lake.staging_path(target)

    assert sorted(p.name for p in target.parent.iterdir()) == ["person"]
    assert staged.name.startswith(".person.tmp-")
