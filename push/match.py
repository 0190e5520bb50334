"""Does this alert go to this subscriber now? Core module: filter, alert and the
minute of the day (JST) in; yes or no out.

* Only official kinds push (:data:`~yure.push.prefs.PUSHABLE_KINDS`), and only those
  the filter names; ``eew: false`` / ``tsunami: false`` turn those kinds off.
* Prefectures: the alert must be tagged with one the subscriber chose (the same tags
  the streams filter on); a filter without prefectures takes all of Japan.
* ``min_intensity`` applies to quake information and EEW: the strongest intensity
  observed (quake) or forecast (EEW) *in the chosen prefectures* must reach it (the
  alert's maximum when it has no per-prefecture values or the filter is nationwide).
* Tsunami: a 津波注意報, 津波警報 or 大津波警報 (or its 解除) for a chosen prefecture's
  coast always passes; a 津波予報 (slight sea-level change) alone does not.
* Quiet hours: inside them only quake/EEW at ``except_from`` or stronger and tsunami
  warnings (not advisories) pass.

A 取消/訂正 of something already pushed reaches its recipients whatever the filter
says; the delivery job adds them (:mod:`yure.push.job`), not this module.
"""

from __future__ import annotations

from yure.ingest.event import Intensity, Kind, TsunamiGrade
from yure.push.alert import GRADE_ORDER, Alert, strongest_grade, strongest_intensity
from yure.push.prefs import PushFilter, intensity_at_least


def should_push(flt: PushFilter, alert: Alert, minute_of_day: int) -> bool:
    """Whether ``alert`` goes to a subscriber with ``flt`` at ``minute_of_day`` (JST)."""
    if alert.kind not in flt.kinds:
        return False
    if (alert.kind is Kind.EEW and not flt.eew) or (alert.kind is Kind.TSUNAMI and not flt.tsunami):
        return False
    if flt.prefs is not None and flt.prefs.isdisjoint(alert.prefs):
        return False
    quiet = flt.quiet is not None and flt.quiet.covers(minute_of_day)
    if alert.kind in (Kind.QUAKE, Kind.EEW):
        level = _intensity_for(flt, alert)
        if flt.min_intensity is not None and (
            level is None or not intensity_at_least(level, flt.min_intensity)
        ):
            return False
        if quiet:
            assert flt.quiet is not None
            floor = flt.quiet.except_from
            return floor is not None and level is not None and intensity_at_least(level, floor)
        return True
    if alert.kind is Kind.TSUNAMI:
        grade = _grade_for(flt, alert)
        bar = TsunamiGrade.WARNING if quiet else TsunamiGrade.ADVISORY
        return GRADE_ORDER.index(grade) >= GRADE_ORDER.index(bar)
    return not quiet


def _intensity_for(flt: PushFilter, alert: Alert) -> Intensity | None:
    if flt.prefs is None or not alert.intensity:
        return alert.max_intensity
    return strongest_intensity([v for p, v in alert.intensity.items() if p in flt.prefs])


def _grade_for(flt: PushFilter, alert: Alert) -> TsunamiGrade:
    grade = TsunamiGrade.NONE
    for pref, value in alert.tsunami.items():
        if flt.prefs is None or pref in flt.prefs:
            grade = strongest_grade(grade, value)
    return grade
