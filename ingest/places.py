"""Place *names* (and EPSP area codes) in P2P地震情報 items → prefecture codes, on top
of :mod:`geo.codes`.

JMA telegrams carry codes, P2P items carry only names: 551 ``points[].pref`` is a
prefecture name, 552 ``areas[].name`` a 津波予報区 name, 556 ``areas[].pref`` a
緊急地震速報 府県予報区 name as JMA writes it (``北海道道北``, ``伊豆諸島``). geo maps
codes and names to codes (:func:`geo.codes.tsunami_area_code`,
:func:`geo.codes.eew_area_code`); this module adds P2P's own EPSP area table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from yure.geo import codes
from yure.geo.errors import GeoError

#: yure's own table of P2P地震情報 area codes (561 ``area``) → prefecture, derived from
#: p2pquake/epsp-specifications ``epsp-area.csv`` (MIT): the 138 rows with a 都道府県.
EPSP_AREAS_PATH = Path(__file__).resolve().with_name("epsp_areas.csv")
_EPSP_HEADER = ("area", "pref", "name")


@dataclasses.dataclass(frozen=True, slots=True)
class GeoPlaces:
    """:class:`ingest.p2p.Places` backed by :mod:`geo.codes` and the EPSP area table."""

    epsp_prefs: Mapping[int, str]

    @classmethod
    def load(cls, epsp_areas: Path = EPSP_AREAS_PATH) -> GeoPlaces:
        """Read yure's EPSP area table ``epsp_areas``.

        Raises:
            GeoError: the table is missing, too large or not in yure's format.
        """
        epsp: dict[int, str] = {}
        for area, pref, name in codes.read_table(epsp_areas, _EPSP_HEADER):
            if not area.isdigit() or pref not in codes.PREF_CODES:
                raise GeoError(f"{epsp_areas}: bad row {area},{pref},{name}")
            epsp[int(area)] = pref
        return cls(epsp_prefs=epsp)

    def pref_of_name(self, name: str) -> str | None:
        """都道府県名 → JIS code; None for anything that is not one prefecture."""
        try:
            found = codes.resolve_pref_tokens([name])
        except GeoError:
            return None
        return next(iter(found)) if len(found) == 1 else None

    def pref_of_epicenter(self, name: str) -> str | None:
        """震央地名 → prefecture (geo's rule)."""
        return codes.pref_of_epicenter(name)

    def tsunami_area(self, name: str) -> tuple[str, tuple[str, ...]] | None:
        """津波予報区 name → (code, prefectures); None when unknown."""
        code = codes.tsunami_area_code(name)
        if code is None:
            return None
        prefs = codes.prefs_of_tsunami_area(code)
        return (code, prefs) if prefs else None

    def prefs_of_eew_area(self, name: str) -> tuple[str, ...] | None:
        """府県予報区 name → prefectures; None when unknown."""
        code = codes.eew_area_code(name)
        if code is None:
            return None
        return codes.prefs_of_eew_area(code) or None

    def pref_of_epsp_area(self, area: int) -> str | None:
        """EPSP area code → prefecture; None for 900/901/905 and unknown codes."""
        return self.epsp_prefs.get(area)
