"""What a publish leaves on disk, and what ``DataCore.settle`` and ``disagreements`` make of it:
staging folders kept while their load lives, versions never switched to dropped, data and
truth tables switched in one catalog.json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shuhui.datacore.store import DataCore
from tests.datacore.test_store import PEOPLE, TRUTH, as_table, people_rows


@pytest.fixture
def core(tmp_path: Path) -> DataCore:
    return DataCore(tmp_path / "datacore", tmp_path / "truth", truth=True)


def stagings(core: DataCore) -> list[Path]:
    return sorted(core.main.table_dir("people").glob(".staging-*"))


def test_a_live_loads_staging_is_kept_and_a_dead_ones_removed(core: DataCore) -> None:
    session = core.session("live")
    session.write(PEOPLE, as_table(people_rows(5)))
    live = stagings(core)
    assert [p.suffix for p in live] == ["", ".lock"]
    # A process that died while loading: the kernel dropped its lock, its folder stayed.
    script = (
        "import sys; from pathlib import Path; from shuhui.datacore.storage import Storage; "
        "Storage(Path(sys.argv[1])).new_staging('people', 'dead')"
    )
    subprocess.run([sys.executable, "-c", script, str(core.main.root)], check=True)
    assert len(stagings(core)) == 4
    # Another process (here another core: another open file, another lock) tidies up.
    removed = DataCore(core.main.root, core.truth_store.root).settle().removed
    assert [p.name for p in removed] == [".staging-dead"]
    assert stagings(core) == live
    assert session.commit()["people"].version == 1
    assert stagings(core) == []


def test_versions_never_switched_to_are_dropped_and_their_numbers_given_again(
    core: DataCore,
) -> None:
    core.load(PEOPLE, as_table(people_rows(5)))
    folder = core.main.table_dir("people")
    # A publish that died between its manifest and the switch.
    (folder / "v000002").mkdir()
    (folder / "v000002.json").write_text((folder / "v000001.json").read_text())
    assert [(v.table, v.version, v.current) for v in core.published()] == [("people", 1, True)]
    assert {p.name for p in core.settle().removed} == {"v000002", "v000002.json"}
    assert core.main.versions("people") == [1]
    (folder / "v000002").mkdir()  # again; the next load drops it before naming its version
    assert core.load(PEOPLE, as_table(people_rows(3))).version == 2
    assert core.table("people").rows == 3


def test_data_and_truth_switch_in_one_catalog_and_are_checked_to_agree(core: DataCore) -> None:
    for seed in (1, 2):
        with core.session("together") as session:
            session.write(PEOPLE, as_table(people_rows(4, seed=seed)))
            session.write(TRUTH, as_table(people_rows(2, seed=seed), TRUTH))
    catalog = json.loads(core.catalog.path.read_text())
    assert catalog == {"tables": {"people": 2}, "truth": {"truth_secret": 2}}
    assert not (core.truth_store.root / "catalog.json").exists()
    manifest = core.main.read_manifest("people", 2)
    assert manifest.published_with == {"people": 2, "truth_secret": 2}
    assert core.truth_store.read_manifest("truth_secret", 2).generation == manifest.generation
    assert core.disagreements() == []
    # Truth served from the previous publish: named, both ways round.
    catalog["truth"]["truth_secret"] = 1
    core.catalog.path.write_text(json.dumps(catalog))
    (problem,) = core.disagreements()
    assert "people v2" in problem and "truth_secret serves v1" in problem


def test_a_truth_trees_own_catalog_is_read_and_moved_into_the_one_switch(
    core: DataCore,
) -> None:
    with core.session("city") as session:
        session.write(PEOPLE, as_table(people_rows(4)))
        session.write(TRUTH, as_table(people_rows(2), TRUTH))
    # The layout before one catalog held both trees.
    core.catalog.path.write_text(json.dumps({"tables": {"people": 1}}))
    legacy = core.truth_store.root / "catalog.json"
    legacy.write_text(json.dumps({"tables": {"truth_secret": 1}}))
    assert {t.name for t in core.tables()} == {"people", "truth_secret"}
    core.load(PEOPLE, as_table(people_rows(3)))
    assert json.loads(core.catalog.path.read_text())["truth"] == {"truth_secret": 1}
    assert not legacy.exists()
    assert {t.name for t in core.tables()} == {"people", "truth_secret"}


def test_a_publish_being_recorded_is_left_to_its_recorder(core: DataCore) -> None:
    seen: list[list[tuple[str, int]]] = []

    def recorder(_results: object) -> None:
        # Another process's recovery, while this load records its version.
        other = DataCore(core.main.root, core.truth_store.root)
        seen.append([(v.table, v.version) for v in other.settle().published])

    core.load(PEOPLE, as_table(people_rows(3)), recorder=recorder)
    core.load(PEOPLE, as_table(people_rows(4)), recorder=recorder)
    assert seen == [[], [("people", 1)]]
    assert [(v.table, v.version) for v in core.settle().published] == [("people", 1), ("people", 2)]
    assert not list((core.main.root / "publishing").iterdir())
