"""One broken rule, named by its code and article, with a message in Chinese and English."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule a request breaks.

    ``code`` is stable and machine-readable: ``JX-12`` for Art. 12, ``JX-13-2`` for Art. 13 item (2), or
    a technical code such as ``FORMULA`` or ``FLOW``. ``field`` is a dotted path into the request
    (``county_code``, ``crediting_period.start``, ``asset_identifiers[1]``) or None when the violation
    concerns no single field.
    """

    code: str
    article: str
    field: str | None
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, str | None]:
        """A JSON-safe dict of the five fields."""
        return {
            "code": self.code,
            "article": self.article,
            "field": self.field,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }
