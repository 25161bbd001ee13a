"""The five-category loan classification (贷款五级分类); warnings may only move a loan down."""

from __future__ import annotations

from wuxin.errors import InvalidInput

RISK_CLASSES = ("normal", "special_mention", "substandard", "doubtful", "loss")  # best first
LABELS_ZH = {"normal": "正常", "special_mention": "关注", "substandard": "次级", "doubtful": "可疑", "loss": "损失"}


def check_risk_class(name: str) -> str:
    if name not in RISK_CLASSES:
        raise InvalidInput(f"risk class {name!r} is not one of {list(RISK_CLASSES)}")
    return name


def downgraded(current: str, floor: str | None) -> str | None:
    """The class a warning moves the loan to (at least as bad as `floor`), or None when it changes nothing."""
    if floor is None:
        return None
    if RISK_CLASSES.index(check_risk_class(floor)) > RISK_CLASSES.index(check_risk_class(current)):
        return floor
    return None
