"""The course of conduct, counted: what the PDF's first page sets out so an officer sees the
pattern without reading every entry.

Counts and dates only, grouped under the headings the law uses: the examples of acts
associated with stalking in s.2A(3) of the Protection from Harassment Act 1997, the FOUR
pattern (fixated, obsessive, unwanted, repeated) that stalking guidance teaches, and the
effects s.4A names. Whether that amounts to stalking is for the officer and the court; the page
says so.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from app.export.content import PackContent
from app.export.times import in_zone
from app.models.codes import Behaviour, ImpactArea
from app.models.incident import IncidentPublic

# s.2A(3)'s examples, each with the behaviour codes that record it.
S2A3_HEADINGS: tuple[tuple[str, frozenset[Behaviour]], ...] = (
    ("(a) following a person", frozenset({Behaviour.following})),
    (
        "(b) contacting, or attempting to contact, a person by any means",
        frozenset({Behaviour.contacting, Behaviour.gifts, Behaviour.third_parties}),
    ),
    ("(c) publishing material relating to a person", frozenset({Behaviour.publishing})),
    ("(d) monitoring a person's electronic communication", frozenset({Behaviour.monitoring})),
    ("(e) loitering in any place", frozenset({Behaviour.loitering, Behaviour.turning_up})),
    ("(f) interfering with property", frozenset({Behaviour.property})),
    ("(g) watching or spying on a person", frozenset({Behaviour.watching})),
    (
        "Other conduct: threats, breaches of orders, anything else",
        frozenset({Behaviour.threats, Behaviour.order_breach, Behaviour.other}),
    ),
)

# s.4A(1)(b): fear of violence, or serious alarm or distress with a substantial adverse effect
# on usual day-to-day activities (the other areas are those effects).
S4A_HEADINGS: tuple[tuple[str, frozenset[ImpactArea]], ...] = (
    ("Fear that violence will be used, s.4A(1)(b)(i)", frozenset({ImpactArea.fear_of_violence})),
    ("Serious alarm or distress, s.4A(1)(b)(ii)", frozenset({ImpactArea.alarm_or_distress})),
    (
        "Substantial adverse effect on usual day-to-day activities, s.4A(1)(b)(ii)",
        frozenset(ImpactArea) - {ImpactArea.fear_of_violence, ImpactArea.alarm_or_distress},
    ),
)

# What counts as "at night" for the obsessive line: 10 pm to 6 am UK time.
NIGHT_HOURS = frozenset({22, 23, 0, 1, 2, 3, 4, 5})


@dataclass(frozen=True)
class Heading:
    title: str
    incidents: int
    first: date | None
    last: date | None
    detail: str  # the behaviours (or areas) under it, with their counts


@dataclass(frozen=True)
class First:
    what: str
    on: date


@dataclass(frozen=True)
class MonthRow:
    month: date  # its first day
    incidents: int
    behaviours: str


@dataclass(frozen=True)
class CourseOfConduct:
    incidents: int
    days: int  # distinct days with an incident
    first: date | None
    last: date | None
    weeks: int  # calendar weeks from the first incident's to the last's
    active_weeks: int
    four: tuple[tuple[str, str], ...]
    s2a3: tuple[Heading, ...]
    months: tuple[MonthRow, ...]
    firsts: tuple[First, ...]
    s4a: tuple[Heading, ...]


def _day(moment: datetime) -> date:
    return in_zone(moment).date()


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


Code = TypeVar("Code", Behaviour, ImpactArea)
BehaviourWords = dict[Behaviour, str]
AreaWords = dict[ImpactArea, str]


def _counted(counter: Counter[Code], words: dict[Code, str]) -> str:
    """'Contacting 5, Gifts 2'."""
    return ", ".join(f"{words[code]} {n}" for code, n in counter.most_common())


def _longest_run(days: list[date]) -> int:
    longest = run = 0
    previous: date | None = None
    for day in days:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest, previous = max(longest, run), day
    return longest


def course_of_conduct(
    content: PackContent, behaviour_words: BehaviourWords, area_words: AreaWords
) -> CourseOfConduct:
    incidents = sorted(content.incidents, key=lambda i: i.occurred_at)
    days = sorted({_day(i.occurred_at) for i in incidents})
    first, last = (days[0], days[-1]) if days else (None, None)
    weeks = ((_week(last) - _week(first)).days // 7 + 1) if first and last else 0
    active_weeks = len({_week(day) for day in days})
    return CourseOfConduct(
        incidents=len(incidents),
        days=len(days),
        first=first,
        last=last,
        weeks=weeks,
        active_weeks=active_weeks,
        four=_four(content, incidents, days, weeks, active_weeks, behaviour_words),
        s2a3=_s2a3(incidents, behaviour_words),
        months=_months(incidents, behaviour_words),
        firsts=_firsts(content, incidents),
        s4a=_s4a(content, area_words),
    )


def _four(
    content: PackContent,
    incidents: list[IncidentPublic],
    days: list[date],
    weeks: int,
    active_weeks: int,
    words: BehaviourWords,
) -> tuple[tuple[str, str], ...]:
    if not incidents:
        return ()
    behaviours = Counter(b for i in incidents for b in i.behaviours)
    (top, top_count), kinds = behaviours.most_common(1)[0], len(behaviours)
    night = sum(1 for i in incidents if in_zone(i.occurred_at).hour in NIGHT_HOURS)
    busiest_week, busiest = Counter(_week(_day(i.occurred_at)) for i in incidents).most_common(1)[0]
    reports = len(content.police_reports)
    references = len({r.crime_reference for r in content.police_reports if r.crime_reference})
    breaches = behaviours.get(Behaviour.order_breach, 0)
    unwanted = f"reported to the police {_plural(reports, 'time')}"
    if references:
        unwanted += f" under {_plural(references, 'crime reference')}"
    if breaches:
        unwanted += f"; {_plural(breaches, 'incident')} recorded as a breach of an order"
    if content.impact_notes:
        unwanted += f"; {_plural(len(content.impact_notes), 'note')} on the harm it is doing"
    return (
        (
            "Fixated",
            f"behaviour of {_plural(kinds, 'kind')}; {words[Behaviour(top)]} the most often "
            f"({_plural(top_count, 'incident')})",
        ),
        (
            "Obsessive",
            f"{_plural(night, 'incident')} at night (10 pm to 6 am); the longest run "
            f"{_plural(_longest_run(days), 'day')} in a row; the busiest week "
            f"{_plural(busiest, 'incident')} (from {busiest_week:%d %b %Y})",
        ),
        ("Unwanted", unwanted),
        (
            "Repeated",
            f"{_plural(len(incidents), 'incident')} on {_plural(len(days), 'day')}, in "
            f"{active_weeks} of the {_plural(weeks, 'week')} from the first to the last",
        ),
    )


def _s2a3(incidents: list[IncidentPublic], words: BehaviourWords) -> tuple[Heading, ...]:
    headings = []
    for title, codes in S2A3_HEADINGS:
        under = [i for i in incidents if codes.intersection(i.behaviours)]
        if not under:
            continue
        counts = Counter(b for i in under for b in i.behaviours if b in codes)
        headings.append(
            Heading(
                title,
                len(under),
                _day(under[0].occurred_at),
                _day(under[-1].occurred_at),
                _counted(counts, words),
            )
        )
    return tuple(headings)


def _months(incidents: list[IncidentPublic], words: BehaviourWords) -> tuple[MonthRow, ...]:
    """Every month from the first incident's to the last's, empty ones too: escalation is as
    much in the gaps closing as in the counts rising."""
    if not incidents:
        return ()
    by_month: dict[date, list[IncidentPublic]] = {}
    for incident in incidents:
        by_month.setdefault(_day(incident.occurred_at).replace(day=1), []).append(incident)
    month, end = min(by_month), max(by_month)
    rows = []
    while month <= end:
        under = by_month.get(month, [])
        counts = Counter(b for i in under for b in i.behaviours)
        rows.append(MonthRow(month, len(under), _counted(counts, words)))
        month = (month + timedelta(days=32)).replace(day=1)
    return tuple(rows)


FIRSTS: tuple[tuple[str, frozenset[Behaviour]], ...] = (
    ("First threat", frozenset({Behaviour.threats})),
    ("First time turning up or loitering", frozenset({Behaviour.turning_up, Behaviour.loitering})),
    ("First time following", frozenset({Behaviour.following})),
    ("First damage or interference with property", frozenset({Behaviour.property})),
    ("First breach of an order", frozenset({Behaviour.order_breach})),
)


def _firsts(content: PackContent, incidents: list[IncidentPublic]) -> tuple[First, ...]:
    firsts = []
    if incidents:
        firsts.append(First("First incident recorded", _day(incidents[0].occurred_at)))
    for what, codes in FIRSTS:
        found = next((i for i in incidents if codes.intersection(i.behaviours)), None)
        if found is not None:
            firsts.append(First(what, _day(found.occurred_at)))
    if content.police_reports:
        reported = min(r.reported_at for r in content.police_reports)
        firsts.append(First("First report to the police", _day(reported)))
    return tuple(sorted(firsts, key=lambda f: f.on))


def _s4a(content: PackContent, words: AreaWords) -> tuple[Heading, ...]:
    notes = sorted(content.impact_notes, key=lambda n: n.noted_at)
    headings = []
    for title, areas in S4A_HEADINGS:
        under = [n for n in notes if areas.intersection(n.areas)]
        if not under:
            continue
        counts = Counter(a for n in under for a in n.areas if a in areas)
        headings.append(
            Heading(
                title,
                len(under),
                _day(under[0].noted_at),
                _day(under[-1].noted_at),
                _counted(counts, words),
            )
        )
    return tuple(headings)
