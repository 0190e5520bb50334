"""JMA's scales as yure types: 震度 (seismic intensity), 長周期地震動階級 (long-period
ground motion class) and the tsunami warning grades. Core module: constants only.
"""

from __future__ import annotations

from enum import StrEnum


class Intensity(StrEnum):
    """JMA seismic intensity (震度) classes, as JMA writes them in ``MaxInt``."""

    I1 = "1"
    I2 = "2"
    I3 = "3"
    I4 = "4"
    I5_LOWER = "5-"
    I5_UPPER = "5+"
    I6_LOWER = "6-"
    I6_UPPER = "6+"
    I7 = "7"


#: Intensity order, weakest first, for "max of" computations.
INTENSITY_ORDER: tuple[Intensity, ...] = tuple(Intensity)


class LgIntensity(StrEnum):
    """長周期地震動階級 (long-period ground motion class) as JMA writes it in
    ``MaxLgInt``/``LgInt`` (VXSE62); 0 only at stations."""

    L0 = "0"
    L1 = "1"
    L2 = "2"
    L3 = "3"
    L4 = "4"


class TsunamiGrade(StrEnum):
    """津波警報等の種類, coarsened to what a subscriber needs."""

    MAJOR_WARNING = "major_warning"  # 大津波警報 (Kind 52/53, JMA code table 14)
    WARNING = "warning"  # 津波警報 (Kind 51)
    ADVISORY = "advisory"  # 津波注意報
    FORECAST = "forecast"  # 津波予報（若干の海面変動）
    NONE = "none"  # 解除 / なし
