"""Sites: the hospitals that run the trial, each with its own time zone and study-id format."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from pro_app.models.base import Base


class Site(Base):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # A regular expression every study id at this site must match, e.g. ^PRIME-\d{3}$.
    study_id_pattern: Mapped[str] = mapped_column(String(100), default=r"^PRIME-\d{3}$")
    # Shown beside the study-id field and in its error message, since a pattern is not for people.
    study_id_example: Mapped[str] = mapped_column(
        String(40), default="PRIME-001", server_default="PRIME-001"
    )
    contact_en: Mapped[str] = mapped_column(String(300), default="")
    contact_zh: Mapped[str] = mapped_column(String(300), default="")
    # The study nurse's number as dialled (+86 21 3880 4518): a tap-to-call link on patient
    # error pages, beside the contact line.
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")

    def contact(self, locale: str) -> str:
        return self.contact_zh if locale.startswith("zh") else self.contact_en

    @property
    def tel_uri(self) -> str:
        """`tel:+862138804518`: the number with only the digits and a leading plus kept."""
        digits = "".join(ch for ch in self.phone if ch.isdigit())
        return f"tel:{'+' if self.phone.strip().startswith('+') else ''}{digits}" if digits else ""

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en
