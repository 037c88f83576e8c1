"""Instrument, schedule, text-pack files are checked; a broken file names itself and its fault."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pro_app import create_app
from pro_app.config import ConfigError
from pro_app.questionnaire.catalog import INSTRUMENTS_DIR, load_catalog
from pro_app.questionnaire.errors import DefinitionError
from tests.conftest import make_settings


def test_committed_files_load(tmp_path: Path) -> None:
    catalog = load_catalog(tmp_path)
    mlhfq = catalog.instrument("mlhfq")
    assert len(mlhfq.items) == 21
    assert {s.id: (s.min, s.max) for s in mlhfq.scoring.scores} == {
        "total": (0, 105), "physical": (0, 40), "emotional": (0, 25)
    }
    assert catalog.schedule.codes == ("baseline", "d7", "d43", "d91", "d180", "d360")
    assert [v.day for v in catalog.schedule.visits] == [0, 7, 43, 91, 180, 360]
    assert "mlhfq" not in catalog.schedule.visit("d7").instruments


def test_without_an_installed_pack_the_demo_wording_is_used_and_marked(tmp_path: Path) -> None:
    catalog = load_catalog(tmp_path)
    assert all(pack.demo for pack in catalog.textpacks.values())


@pytest.fixture
def instruments_copy(tmp_path: Path) -> Path:
    target = tmp_path / "instruments"
    shutil.copytree(INSTRUMENTS_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "fault"),
    [
        (
            "items = [2, 3, 4, 5, 6, 7, 12, 13]",
            "items = [2, 3, 4, 5, 6, 7, 12, 99]",
            "item numbers",
        ),
        ('missing_rule = "complete"', 'missing_rule = "guess"', "missing_rule"),
        ("max = 40", "max = 45", "do not match"),
        ('id = "mlhf07"', 'id = "mlhf06"', "duplicate item id"),
        ("recall_period_days = 28", 'recall_period_days = "28"', "recall_period_days"),
        ("[choices]", "[choice]", "missing 'choices'"),
    ],
)
def test_broken_instrument_file_names_file_and_fault(
    instruments_copy: Path, tmp_path: Path, old: str, new: str, fault: str
) -> None:
    path = instruments_copy / "mlhfq" / "instrument.toml"
    _edit(path, old, new)
    with pytest.raises(DefinitionError) as caught:
        load_catalog(tmp_path, instruments_copy)
    assert caught.value.path == path
    assert fault in str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "fault"),
    [
        ('instruments = ["mlhfq"]', 'instruments = ["nosuch"]', "unknown 'nosuch'"),
        ("days_before = 7", "days_before = 40", "overlap"),
        ("day = 43", "day = 3", "in order"),
    ],
)
def test_broken_schedule_names_file_and_fault(
    instruments_copy: Path, tmp_path: Path, old: str, new: str, fault: str
) -> None:
    path = instruments_copy / "schedule" / "schedule.toml"
    _edit(path, old, new)
    with pytest.raises(DefinitionError, match=fault) as caught:
        load_catalog(tmp_path, instruments_copy)
    assert caught.value.path == path


def test_a_text_pack_missing_an_item_is_refused(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    packs.mkdir()
    demo = INSTRUMENTS_DIR / "mlhfq" / "textpack-demo" / "mlhfq.en.toml"
    text = demo.read_text().replace('mlhf21 = "', 'unrelated = "')
    (packs / "mlhfq.en.toml").write_text(text)
    with pytest.raises(DefinitionError, match="mlhf21"):
        load_catalog(packs)


def _install_licensed_packs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for language in ("en", "zh_Hans"):
        demo = INSTRUMENTS_DIR / "mlhfq" / "textpack-demo" / f"mlhfq.{language}.toml"
        text = demo.read_text().replace("demo = true", "demo = false")
        text = text.replace("-demo-1", "-site-7")
        (folder / demo.name).write_text(text)


def test_an_installed_pack_replaces_the_demo_and_is_identified(tmp_path: Path) -> None:
    _install_licensed_packs(tmp_path / "packs")
    catalog = load_catalog(tmp_path / "packs")
    pack = catalog.textpack("mlhfq", "zh_Hans")
    assert not pack.demo and pack.pack_id == "mlhfq-zh_Hans-site-7" and len(pack.sha256) == 64


def test_production_refuses_to_start_with_demo_wording(tmp_path: Path) -> None:
    settings = make_settings("sqlite://", tmp_path, PRO_ENV="production")
    with pytest.raises(ConfigError, match="demo wording"):
        create_app(settings=settings)


def test_production_starts_with_licensed_packs(tmp_path: Path) -> None:
    _install_licensed_packs(tmp_path / "textpacks")
    settings = make_settings("sqlite://", tmp_path, PRO_ENV="production")
    app = create_app(settings=settings)
    assert not app.extensions["pro_catalog"].demo_packs
