"""Test text packs as long as the licensed MLHFQ wording (which is never committed): the longest
item about 25 Chinese or 110 English characters, plus a stem of the licensed length. Made-up
words of that length, so the browser tests measure the screens a real patient will see."""

from __future__ import annotations

from pathlib import Path

ENGLISH_STEM = (
    "During the past 4 weeks, did your heart failure prevent you from living as you wanted by -"
)
CHINESE_STEM = "在过去4周里，您的心衰是否因为以下原因影响您按照自己的意愿生活："

# The longest item is written out at full length; the others are shorter, like the real ones.
ENGLISH_LONGEST = (
    "Making it hard for you to do the things you enjoy with your friends or family at home, "
    "outside or when you travel?"
)
CHINESE_LONGEST = "使您难以和家人或朋友一起在外面或家里做您喜欢的事情？"
ENGLISH_SHORT = "Making you short of breath when you walk, climb stairs or do housework?"
CHINESE_SHORT = "使您在走路、上楼梯或做家务时感到气短？"


def write_long_packs(folder: Path) -> Path:
    """Write mlhfq.en.toml and mlhfq.zh_Hans.toml into `folder` (a PRO_TEXTPACK_DIR)."""
    assert 100 <= len(ENGLISH_LONGEST) <= 120, len(ENGLISH_LONGEST)
    assert 24 <= len(CHINESE_LONGEST) <= 30, len(CHINESE_LONGEST)
    folder.mkdir(parents=True, exist_ok=True)
    for language, stem, longest, short, anchors in (
        ("en", ENGLISH_STEM, ENGLISH_LONGEST, ENGLISH_SHORT, ("No", "Very little", "Very much")),
        ("zh_Hans", CHINESE_STEM, CHINESE_LONGEST, CHINESE_SHORT, ("没有", "很少", "非常多")),
    ):
        items = "\n".join(
            f'mlhf{number:02d} = "{longest if number % 3 else short}"' for number in range(1, 22)
        )
        (folder / f"mlhfq.{language}.toml").write_text(
            f'pack_id = "mlhfq-{language}-test-long"\n'
            f'instrument = "mlhfq"\nlanguage = "{language}"\ndemo = false\n'
            f'title = "Test pack of licensed length"\n'
            f'instructions = "Test wording of realistic length."\n'
            f'recall = "Test recall."\nstem = "{stem}"\n\n'
            f'[anchors]\n0 = "{anchors[0]}"\n1 = "{anchors[1]}"\n5 = "{anchors[2]}"\n\n'
            f"[items]\n{items}\n",
            encoding="utf-8",
        )
    return folder
