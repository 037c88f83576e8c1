"""Test text packs as long as the licensed MLHFQ wording (which is never committed): the longest
item about 25 Chinese or 110 English characters, plus a stem of the licensed length. Our own words
of those lengths (none of the licensed stem, items or anchors), so the browser tests measure the
screens a real patient will see."""

from __future__ import annotations

from pathlib import Path

ENGLISH_STEM = (
    "Test stem: over the last four weeks, how much has your health got in the way of your days -"
)
CHINESE_STEM = "测试题干：最近四周里，您的身体状况在多大程度上妨碍了您的日常生活："

# The longest item is written out at full length; the others are shorter, like the real ones.
ENGLISH_LONGEST = (
    "Test item: was it hard to do the things you enjoy with friends or family, at home, outside "
    "or while travelling?"
)
CHINESE_LONGEST = "测试条目：和亲友一起在家里、外面或旅行时做喜欢的事有困难吗？"
ENGLISH_SHORT = "Test item: did walking, climbing stairs or doing housework leave you tired?"
CHINESE_SHORT = "测试条目：走路、上楼梯或做家务时会累吗？"
# Anchors as long as the licensed ones (2, 11 and 9 letters; 2, 2 and 3 characters).
ENGLISH_ANCHORS = ("Nil", "Hardly ever", "Very often")
CHINESE_ANCHORS = ("从不", "偶尔", "经常有")


def write_long_packs(folder: Path) -> Path:
    """Write mlhfq.en.toml and mlhfq.zh_Hans.toml into `folder` (a PRO_TEXTPACK_DIR)."""
    assert 100 <= len(ENGLISH_LONGEST) <= 120, len(ENGLISH_LONGEST)
    assert 24 <= len(CHINESE_LONGEST) <= 30, len(CHINESE_LONGEST)
    folder.mkdir(parents=True, exist_ok=True)
    for language, stem, longest, short, anchors in (
        ("en", ENGLISH_STEM, ENGLISH_LONGEST, ENGLISH_SHORT, ENGLISH_ANCHORS),
        ("zh_Hans", CHINESE_STEM, CHINESE_LONGEST, CHINESE_SHORT, CHINESE_ANCHORS),
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
