"""From requests to the catalogue (issue 13 point 5). Pure.

Information that several applicants ask for is a candidate for proactive disclosure (Reg. 44: 多个
申请人就相同政府信息向同一行政机关提出公开申请，且该政府信息属于可以公开的，行政机关可以纳入主动公开的
范围). The comparison is the repeat detection's own (outcomes.similar: rapidfuzz's weighted ratio on
characters, SIMILAR_AT), here across applicants instead of within one applicant's requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz, process, utils

from outcomes.similar import SIMILAR_AT

# Reg. 44 says 多个 (several): three different applicants by default.
SEVERAL_APPLICANTS = 3


@dataclass(frozen=True)
class RequestedItem:
    application_id: str
    item_no: int
    description: str
    applicant: str  # who asked (name and contact): one person asking twice counts once
    received_on: date
    outcome: str | None = None


@dataclass(frozen=True)
class RequestCluster:
    subject: str
    items: tuple[RequestedItem, ...]

    @property
    def applicants(self) -> int:
        return len({i.applicant for i in self.items})

    @property
    def application_ids(self) -> list[str]:
        return sorted({i.application_id for i in self.items})


# Issue 23 point 7: information withheld on a ground that forbids its disclosure is no candidate for proactive
# disclosure: Reg. 14 (国家秘密; 法律、行政法规禁止公开; 危及"三安全一稳定") and Reg. 16 para. 1 (内部事务信息).
NOT_FOR_PUBLIC = frozenset({"withheld-1", "withheld-2", "withheld-3", "withheld-5"})


def requested_often(items: list[RequestedItem], *, min_applicants: int = SEVERAL_APPLICANTS,
                    threshold: float = SIMILAR_AT) -> list[RequestCluster]:
    """Groups of similar requested items asked by at least `min_applicants` different applicants,
    most asked first. Greedy: each item (newest first) seeds a group of the not yet grouped items
    similar to it; its description is the group's subject. The score is outcomes.similar's (WRatio on
    default-processed text, at least SIMILAR_AT), each seed compared with the rest in one rapidfuzz call."""
    pending = sorted((i for i in items if i.outcome not in NOT_FOR_PUBLIC),
                     key=lambda i: (i.received_on, i.application_id, i.item_no), reverse=True)
    clusters: list[RequestCluster] = []
    left = dict(enumerate(pending))
    for n, seed in enumerate(pending):
        if n not in left:
            continue
        del left[n]
        found = process.extract(seed.description, {m: i.description for m, i in left.items()}, scorer=fuzz.WRatio,
                                processor=utils.default_process, score_cutoff=threshold, limit=None)
        members = sorted(m for _, _, m in found)
        cluster = RequestCluster(subject=seed.description, items=(seed, *(left.pop(m) for m in members)))
        if cluster.applicants >= min_applicants:
            clusters.append(cluster)
    return sorted(clusters, key=lambda c: (-c.applicants, c.subject))


def near_application(items: list[RequestedItem], application_id: str, *,
                     threshold: float = SIMILAR_AT) -> list[RequestedItem]:
    """The items that can share a group with `application_id`'s: its own, those similar to them (a
    group's seed), and those similar to these (the seed's other members). Grouping this subset instead
    of every recent request makes one application's page linear in the requests, not quadratic."""
    def similar_to(text: str, pool: dict[int, RequestedItem]) -> set[int]:
        found = process.extract(text, {m: i.description for m, i in pool.items()}, scorer=fuzz.WRatio,
                                processor=utils.default_process, score_cutoff=threshold, limit=None)
        return {m for _, _, m in found}

    pool = dict(enumerate(items))
    kept = {m for m, i in pool.items() if i.application_id == application_id}
    for hop in range(2):
        frontier = set(kept)
        for m in frontier:
            kept |= similar_to(items[m].description, {k: v for k, v in pool.items() if k not in kept})
        if hop == 0 and len(kept) == len(frontier):
            break
    return [items[m] for m in sorted(kept)]
