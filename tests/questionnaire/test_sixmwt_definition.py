"""The 6MWT instrument file and the Borg scale packs: loaded by kind, checked, faults named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from pro_app.formatting import display, with_unit
from pro_app.questionnaire.catalog import INSTRUMENTS_DIR, load_catalog
from pro_app.questionnaire.computations.six_minute_walk import SixMinuteWalk
from pro_app.questionnaire.definitions import load_instrument
from pro_app.questionnaire.errors import DefinitionError
from pro_app.questionnaire.kinds.choice import ChoiceQuestionnaire
from pro_app.questionnaire.worksheet import Worksheet

SIXMWT_FILE = INSTRUMENTS_DIR / "sixmwt" / "instrument.toml"

# The ATS 2002 sample worksheet, field by field, plus the weight the reference equation needs.
WORKSHEET = {
    "test_date",
    "start_time",
    "test_number",
    "practice_test",
    "course_length_m",
    "lap_length_m",
    "supplemental_o2",
    "o2_flow_l_min",
    "o2_device",
    "medications",
    "resting_sbp",
    "resting_dbp",
    "baseline_hr",
    "end_hr",
    "baseline_spo2",
    "end_spo2",
    "baseline_dyspnoea",
    "end_dyspnoea",
    "baseline_fatigue",
    "end_fatigue",
    "stopped_early",
    "stop_reason",
    "stop_time_s",
    "symptoms",
    "symptoms_other",
    "laps",
    "partial_lap_m",
    "assistive_device",
    "comments",
    "assessor",
    "weight_kg",
}


def test_the_loader_dispatches_on_kind(tmp_path: Path) -> None:
    catalog = load_catalog(tmp_path)
    assert isinstance(catalog.instrument("mlhfq"), ChoiceQuestionnaire)
    sixmwt = catalog.instrument("sixmwt")
    assert isinstance(sixmwt, Worksheet)
    assert isinstance(load_instrument(SIXMWT_FILE), Worksheet)


def test_the_committed_6mwt_file() -> None:
    sixmwt = load_instrument(SIXMWT_FILE)
    assert isinstance(sixmwt, Worksheet)
    assert set(sixmwt.item_ids) == WORKSHEET
    assert [s.id for s in sixmwt.screens] == ["before", "walk", "after"]
    assert {f.screen for f in sixmwt.fields if f.id.startswith("end_")} == {"after"}
    assert {sixmwt.field(f).screen for f in ("laps", "partial_lap_m", "stopped_early")} == {"walk"}
    assert sixmwt.administered_by == "assessor" and sixmwt.kind == "worksheet"
    assert sixmwt.scale("borg_cr10").values == tuple(v / 2 for v in range(21))
    walk = sixmwt.computation
    assert isinstance(walk, SixMinuteWalk) and walk.timer is not None
    assert walk.timer.screen == "walk"
    assert [p.at_s for p in walk.timer.phrases] == [60, 120, 180, 240, 300, 345, 360]
    assert walk.timer.phrases[0].text.en == "You are doing well. You have 5 minutes to go."
    assert walk.timer.phrases[-1].text.en == "Stop!"
    assert (sixmwt.cdisc_category, walk.cdisc_distance_testcd) == ("SIX MINUTE WALK", "SIXMW106")
    assert "not a Chinese reference" in walk.reference.label.en
    assert "非中国人群" in walk.reference.label.zh
    assert (walk.reference.min_age, walk.reference.max_age) == (40, 80)
    every_label = " ".join(f.label.en + f.patient_label.en for f in sixmwt.fields)
    assert "Borg" in every_label and "nothing at all" not in every_label.lower()


def test_units_are_written_for_the_page_s_audience() -> None:
    """Staff pages and the PDF write symbols (70 kg, 120 mmHg); a patient page writes words
    (70公斤, 120毫米汞柱); English is the same for both."""
    sixmwt = load_instrument(SIXMWT_FILE)
    assert isinstance(sixmwt, Worksheet)
    weight, pressure = sixmwt.field("weight_kg"), sixmwt.field("resting_sbp")
    assert with_unit(70.0, weight, "zh_Hans") == "70 kg"
    assert with_unit(70.0, weight, "zh_Hans", patient=True) == "70公斤"
    assert display(pressure, 120, "zh_Hans", patient=True) == "120毫米汞柱"
    assert display(pressure, 120, "zh_Hans") == "120 mmHg"
    assert with_unit(70.0, weight, "en", patient=True) == with_unit(70.0, weight, "en") == "70 kg"
    assert weight.wording(patient=True).zh == "您今天的体重"
    assert weight.wording(patient=False).zh == "本次访视体重"


def test_the_file_carries_no_borg_wording() -> None:
    """The CR10 verbal anchors are licensed: none of them may be committed."""
    text = SIXMWT_FILE.read_text().lower()
    for anchor in (
        "nothing at all",
        "extremely weak",
        "very weak",
        "moderate",
        "very strong",
        "extremely strong",
        "maximal",
    ):
        assert anchor not in text


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    target = tmp_path / "instruments"
    shutil.copytree(INSTRUMENTS_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "fault"),
    [
        ('kind = "worksheet"', 'kind = "grid"', "'kind' must be one of"),
        ('administered_by = "assessor"', 'administered_by = "nurse"', "'administered_by' must be"),
        ('method = "six_minute_walk"', 'method = "walk"', "'computation.method' must be one of"),
        ('screen = "walk"', 'screen = "corridor"', "'computation.timer.screen' names no screen"),
        ('rule = "multiple_of"', 'rule = "ratio"', "'checks[2].rule' must be one of"),
        ('other = "resting_sbp"', 'other = "stop_reason"', "must name numeric fields"),
        (
            'scale = "borg_cr10"\nlabel_en = "Borg dyspnoea before',
            'scale = "borg"\nlabel_en = "Borg dyspnoea before',
            "'fields[17] (baseline_dyspnoea).scale' must name one",
        ),
        ("height_cm = 7.57", "height_cm = 7.75", "expects 553.5 m, the equation gives"),
        ("constant = 667.0", "constant = 676.0", "expects 520.4 m"),
        (
            "soft_min = 35\n",
            "soft_min = 20\n",
            "'fields[12] (weight_kg).soft_min' must lie within min..max",
        ),
        (
            "min = 25\nmax = 250",
            "min = 250\nmax = 25",
            "'fields[12] (weight_kg).min' must be below 'max'",
        ),
        ('fields = ["end_hr",', 'fields = ["end_pulse", "end_hr",', "unknown field 'end_pulse'"),
        ('fields = ["assessor"]', 'fields = ["comments"]', "field 'assessor' is in no screen"),
        ('id = "laps"', 'id = "weight_kg"', "duplicate field id 'weight_kg'"),
        ("at_s = 120", "at_s = 30", "'computation.timer.phrases' must be in time order"),
        ("at_s = 360", "at_s = 350", "end with the stop at duration_s"),
        (
            'when = { field = "supplemental_o2", value = "yes" }',
            'when = { field = "supplemental_o2", value = "maybe" }',
            "not an option",
        ),
        ('type = "scale"', 'type = "slider"', "'fields[17] (baseline_dyspnoea).type' must be one"),
        ("max_length = 100\n", "", "'fields[31] (assessor).max_length' is required"),
        ('label_en = "Completed laps"\n', "", "missing 'fields[19] (laps).label_en'"),
        (
            'type = "integer"\nrequired = true\nassessor = true\nmin = 0\nmax = 50',
            'type = "decimal"\ndecimals = 1\nrequired = true\nassessor = true\nmin = 0\nmax = 50',
            "needs a integer field 'laps'",
        ),
        (
            'exclusive = "none"',
            'exclusive = "nothing"',
            "'fields[28] (symptoms).exclusive' must name an option",
        ),
        ("step = 0.5", "step = 0.3", "whole number of steps"),
        ("lln_below = 153.0\n", "", "missing 'computation.reference.male.lln_below'"),
    ],
)
def test_a_broken_6mwt_file_names_file_and_fault(
    broken: Path, tmp_path: Path, old: str, new: str, fault: str
) -> None:
    path = broken / "sixmwt" / "instrument.toml"
    _edit(path, old, new)
    with pytest.raises(DefinitionError) as caught:
        load_catalog(tmp_path, broken)
    assert caught.value.path == path
    assert fault in str(caught.value)


def test_a_missing_worked_check_is_refused(broken: Path, tmp_path: Path) -> None:
    path = broken / "sixmwt" / "instrument.toml"
    text = path.read_text()
    female_check = text.index('[[computation.reference.checks]]\nsex = "female"')
    path.write_text(text[:female_check] + text[text.index("[computation.timer]") :])
    with pytest.raises(DefinitionError, match="a worked check for each sex"):
        load_catalog(tmp_path, broken)


# --- Borg CR10 site text packs ------------------------------------------------------------------

# Test wording only: it is not the licensed CR10 wording.
PACK = """pack_id = "borg_cr10-{language}-site-test"
scale = "borg_cr10"
language = "{language}"
scale_version = "CR10 site card 2024"
instructions = "[test] point at the number"
[anchors]
"0" = "[test] anchor at 0"
"0.5" = "[test] anchor at 0.5"
"10" = "[test] anchor at 10"
"""


def install_borg_packs(folder: Path, **changes: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for language in ("zh_Hans", "en"):
        text = PACK.format(language=language)
        for old, new in changes.items():
            text = text.replace(old, new)
        (folder / f"borg_cr10.{language}.toml").write_text(text)


def test_without_a_site_pack_there_is_no_borg_wording(tmp_path: Path) -> None:
    catalog = load_catalog(tmp_path)
    assert catalog.scale_pack("borg_cr10", "zh_Hans") is None
    assert not catalog.demo_packs or all(p.instrument == "mlhfq" for p in catalog.demo_packs)


def test_an_installed_borg_pack_is_loaded_and_identified(tmp_path: Path) -> None:
    install_borg_packs(tmp_path)
    pack = load_catalog(tmp_path).scale_pack("borg_cr10", "en")
    assert pack is not None and pack.pack_id == "borg_cr10-en-site-test"
    assert pack.anchor(0.5) == "[test] anchor at 0.5" and pack.anchor(2.0) == ""
    assert pack.scale_version == "CR10 site card 2024" and len(pack.sha256) == 64


@pytest.mark.parametrize(
    ("change", "fault"),
    [
        ({'"10" = ': '"11" = '}, "anchor '11' is not a value of the scale"),
        ({'"10" = ': '"ten" = '}, "anchor 'ten' is not a number"),
        ({'scale_version = "CR10 site card 2024"\n': ""}, "missing 'scale_version'"),
        ({'scale = "borg_cr10"': 'scale = "borg_rpe"'}, "pack is for borg_rpe"),
    ],
)
def test_a_broken_borg_pack_stops_start_up(
    tmp_path: Path, change: dict[str, str], fault: str
) -> None:
    install_borg_packs(tmp_path, **change)
    with pytest.raises(DefinitionError, match=fault):
        load_catalog(tmp_path)


def test_the_cli_says_which_borg_wording_is_in_use(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["instruments", "check"])
    assert result.exit_code == 0
    assert "sixmwt 1.0 (31 items)" in result.output
    assert "sixmwt borg_cr10/zh_Hans: not installed: numbers only" in result.output
