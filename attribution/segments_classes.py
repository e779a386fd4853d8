"""The words of customer segments (seed 002's RFML, seed 004's 631 tiers), shared by the table,
the wire types and the queries. StrEnums: each member is the string stored and sent."""

from __future__ import annotations

from enum import StrEnum


class RfmClass(StrEnum):
    """High or low R (recent), F and M, each against the brand's median."""

    IMPORTANT_VALUE = "important_value"  # recent, frequent, high spend
    IMPORTANT_DEVELOPMENT = "important_development"  # recent, infrequent, high spend
    IMPORTANT_KEEP = "important_keep"  # not recent, frequent, high spend
    IMPORTANT_WIN_BACK = "important_win_back"  # not recent, infrequent, high spend
    ORDINARY_VALUE = "ordinary_value"  # recent, frequent, low spend
    ORDINARY_DEVELOPMENT = "ordinary_development"  # recent, infrequent, low spend
    ORDINARY_KEEP = "ordinary_keep"  # not recent, frequent, low spend
    ORDINARY_WIN_BACK = "ordinary_win_back"  # not recent, infrequent, low spend


RFM_CLASS_ZH = {
    RfmClass.IMPORTANT_VALUE: "重要价值",
    RfmClass.IMPORTANT_DEVELOPMENT: "重要发展",
    RfmClass.IMPORTANT_KEEP: "重要保持",
    RfmClass.IMPORTANT_WIN_BACK: "重要挽留",
    RfmClass.ORDINARY_VALUE: "一般价值",
    RfmClass.ORDINARY_DEVELOPMENT: "一般发展",
    RfmClass.ORDINARY_KEEP: "一般保持",
    RfmClass.ORDINARY_WIN_BACK: "一般挽留",
}


def rfm_class(*, recent: bool, frequent: bool, high_spend: bool) -> RfmClass:
    return {
        (True, True, True): RfmClass.IMPORTANT_VALUE,
        (True, False, True): RfmClass.IMPORTANT_DEVELOPMENT,
        (False, True, True): RfmClass.IMPORTANT_KEEP,
        (False, False, True): RfmClass.IMPORTANT_WIN_BACK,
        (True, True, False): RfmClass.ORDINARY_VALUE,
        (True, False, False): RfmClass.ORDINARY_DEVELOPMENT,
        (False, True, False): RfmClass.ORDINARY_KEEP,
        (False, False, False): RfmClass.ORDINARY_WIN_BACK,
    }[(recent, frequent, high_spend)]


class Tier(StrEnum):
    """The 631 rule by spend in the period: top 10%, next 30%, the other 60%."""

    CORE = "core"  # 核心会员
    HIGH_POTENTIAL = "high_potential"  # 高潜会员
    ORDINARY = "ordinary"  # 普通会员


TIER_ZH = {Tier.CORE: "核心会员", Tier.HIGH_POTENTIAL: "高潜会员", Tier.ORDINARY: "普通会员"}
