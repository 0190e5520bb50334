"""The Japanese words and codes of JMA 防災情報XML that carry meaning, as tables.

Every literal the telegram parser compares against lives here, so that logic never
holds a bare Japanese string. Sources: 気象庁防災情報XMLフォーマット 技術資料
(「地震火山関連XML電文解説資料」, コード表 14 津波警報等, 12 緊急地震速報) and the
official sample telegrams. Core module: constants only.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from yure.ingest.event import InfoType, Kind, Status, TsunamiGrade

#: Control/Status (運用種別).
STATUS_WORDS: Mapping[str, Status] = MappingProxyType(
    {"通常": Status.ACTUAL, "訓練": Status.EXERCISE, "試験": Status.TEST}
)

#: Head/InfoType (情報形態).
INFO_TYPE_WORDS: Mapping[str, InfoType] = MappingProxyType(
    {"発表": InfoType.ISSUED, "訂正": InfoType.CORRECTED, "取消": InfoType.CANCELLED}
)

#: Control/Title (情報名称) → 電文種別コード, used when the file name does not carry
#: the code. Only unambiguous titles are listed: 南海トラフ地震関連解説情報 is shared by
#: VYSE51 and VYSE52 and therefore absent.
TYPE_CODE_OF_TITLE: Mapping[str, str] = MappingProxyType(
    {
        "震度速報": "VXSE51",
        "震源に関する情報": "VXSE52",
        "震源・震度に関する情報": "VXSE53",
        "地震の活動状況等に関する情報": "VXSE56",
        "地震回数に関する情報": "VXSE60",
        "顕著な地震の震源要素更新のお知らせ": "VXSE61",
        "長周期地震動に関する観測情報": "VXSE62",
        "緊急地震速報配信テスト": "VXSE42",
        "緊急地震速報（警報）": "VXSE43",
        "緊急地震速報（予報）": "VXSE44",
        "緊急地震速報（地震動予報）": "VXSE45",
        "津波警報・注意報・予報a": "VTSE41",
        "津波情報a": "VTSE51",
        "沖合の津波観測に関する情報": "VTSE52",
        "地震・津波に関するお知らせ": "VZSE40",
        "南海トラフ地震臨時情報": "VYSE50",
        "北海道・三陸沖後発地震注意情報": "VYSE60",
        "噴火警報・予報": "VFVO50",
        "噴火速報": "VFVO56",
    }
)

#: 電文種別コード → what yure calls it. Every other code is :attr:`Kind.OTHER`.
KIND_OF_TYPE_CODE: Mapping[str, Kind] = MappingProxyType(
    {
        "VXSE51": Kind.QUAKE,
        "VXSE52": Kind.QUAKE,
        "VXSE53": Kind.QUAKE,
        "VXSE61": Kind.QUAKE,
        "VXSE62": Kind.QUAKE,
        "VXSE43": Kind.EEW,
        "VXSE44": Kind.EEW,
        "VXSE45": Kind.EEW,
        "VTSE41": Kind.TSUNAMI,
        "VTSE51": Kind.TSUNAMI,
        "VTSE52": Kind.TSUNAMI,
        "VZSE40": Kind.NOTICE,
        "VYSE50": Kind.NOTICE,
        "VYSE60": Kind.NOTICE,
    }
)

#: Head/Title of a VXSE53 about an earthquake abroad (遠地地震に関する情報).
FOREIGN_QUAKE_TITLE = "遠地地震に関する情報"

#: 津波警報・注意報・予報 codes (コード表 14, upstream TsunamiWarning.csv):
#: 00 津波なし, 50 警報解除, 60 津波注意報解除 → nothing in force; 51 津波警報;
#: 52 大津波警報, 53 大津波警報：発表; 62 津波注意報; 71/72/73 津波予報（若干の海面変動）
#: (72 and 73 are the forecast left after lifting an advisory / a warning).
TSUNAMI_GRADE_OF_CODE: Mapping[str, TsunamiGrade] = MappingProxyType(
    {
        "00": TsunamiGrade.NONE,
        "50": TsunamiGrade.NONE,
        "60": TsunamiGrade.NONE,
        "51": TsunamiGrade.WARNING,
        "52": TsunamiGrade.MAJOR_WARNING,
        "53": TsunamiGrade.MAJOR_WARNING,
        "62": TsunamiGrade.ADVISORY,
        "71": TsunamiGrade.FORECAST,
        "72": TsunamiGrade.FORECAST,
        "73": TsunamiGrade.FORECAST,
    }
)


class IntensityWord(StrEnum):
    """Non-numeric words JMA writes where an intensity is expected."""

    #: A station (or a whole prefecture) whose value has not arrived although the
    #: network estimates 震度5弱 or more there: unknown, but at least 5-.
    NOT_RECEIVED = "震度５弱以上未入電"
    #: EEW ForecastInt/To: "程度以上" (the upper bound is open).
    OVER = "over"
    #: EEW ForecastInt: 不明.
    UNKNOWN = "不明"


#: jmx_eb:Magnitude text when the magnitude is unknown (with condition="不明").
MAGNITUDE_NAN = "NaN"

#: jmx_eb:Coordinate@type of the degree-minute hypocentre in VXSE61.
COORDINATE_DEGREE_MINUTE_TYPE = "震源位置（度分）"

#: jmx_eb:Coordinate@datum of a coordinate in the old Tokyo datum (ignored when a
#: world-datum coordinate is given too).
TOKYO_DATUM = "日本測地系"
