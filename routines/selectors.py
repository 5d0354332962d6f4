"""What the routine pages read: each routine with its version in force and its draft."""

from dataclasses import dataclass

from .models import Routine, RoutineVersion


@dataclass(frozen=True)
class RoutineState:
    routine: Routine
    in_force: RoutineVersion | None
    draft: RoutineVersion | None


def routines() -> list[RoutineState]:
    """Every routine, by name, with its newest published version and its draft (two queries)."""
    found = list(Routine.objects.order_by("name"))
    newest: dict[int, RoutineVersion] = {}
    drafts: dict[int, RoutineVersion] = {}
    versions = RoutineVersion.objects.select_related("published_by").filter(routine__in=found)
    for version in versions.order_by("routine_id", "-number"):
        if version.is_published:
            newest.setdefault(version.routine_id, version)
        else:
            drafts[version.routine_id] = version
    return [RoutineState(r, newest.get(r.pk), drafts.get(r.pk)) for r in found]
