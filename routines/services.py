"""What can be done to a routine's versions, each checked here once: a draft is made from the
version in force, edited against the revision it was read at (an edit made on an older
revision is refused, so two people never overwrite each other), and published with a reason.
A published version is never changed (and the database refuses it, migration 0002)."""

from django.core.validators import slug_re
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from runbook import roles
from runbook.errors import ActionRefused
from runbook.scenarios import Role

from . import document as routine_document
from . import loader, words
from . import texts as notice_texts
from .models import Routine, RoutineVersion

REASON_MAX = 500
EDITORS = {Role.VERKSAMHETSANSVARIG, Role.VERKSAMHETSSPECIALIST}
PUBLISHERS = {Role.VERKSAMHETSANSVARIG}


def may_edit(user):
    return bool(roles.user_roles(user) & EDITORS)


def may_publish(user):
    return bool(roles.user_roles(user) & PUBLISHERS)


def _explicit(document, routine: Routine | None = None, *, key="", name="", system=""):
    """``document`` as a new version keeps it: one of format 1 gets, written out, the words
    version 1 sends (``document.upgraded``), so every new version carries its texts; a
    scenario taken out takes its own words (``messages.scenarios``) with it."""
    if routine is not None:
        key, name, system = routine.key, routine.name, routine.system
    document = routine_document.upgraded(document, routine_key=key, routine_name=name, system=system)
    words_ = document.get("messages") if isinstance(document, dict) else None
    own = words_.get("scenarios") if isinstance(words_, dict) else None
    if isinstance(own, dict) and isinstance(document.get("scenarios"), list):
        keys = {s.get("key") for s in document["scenarios"] if isinstance(s, dict)}
        if set(own) - keys:
            kept = {k: v for k, v in own.items() if k in keys}
            document = {**document, "messages": {**words_, "scenarios": kept}}
    return document


def _checked(document, *, draft=True):
    """Refuse a document ``document.load`` cannot read, naming the place in words (a draft may
    still lack a scenario; a version to publish may not; the notices' texts must fit once
    filled)."""
    try:
        routine_document.load(document, draft=draft, strict=True)
    except routine_document.DocumentError as error:
        if error.what is not None:
            where, what = error.where, error.what
            raise ActionRefused(
                lambda: f"{words.place(document, where)}: {what}" if where else str(what),
                code="invalid",
            ) from None
        problem = str(error)
        raise ActionRefused(
            lambda: _("Rutinen kan inte läsas: %(error)s") % {"error": problem}, code="invalid"
        ) from None


def start_draft(user, routine: Routine) -> RoutineVersion:
    """The routine's draft: the one there is, or a new one copied from the newest version."""
    if not may_edit(user):
        raise ActionRefused(_("Du får inte ändra rutinen."), code="forbidden")
    with transaction.atomic():
        Routine.objects.select_for_update().get(pk=routine.pk)
        draft = routine.versions.filter(status=RoutineVersion.Status.DRAFT).first()
        if draft is not None:
            return draft
        newest = routine.versions.order_by("-number").first()
        number = (routine.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        return RoutineVersion.objects.create(
            routine=routine,
            number=number,
            document=_explicit(newest.document, routine) if newest else {},
        )


KEY_MAX, NAME_MAX, SYSTEM_MAX = 60, 200, 100


def empty_document(label="") -> dict:
    """A new routine's first draft: the app's clocks, no scenario, question or notice yet."""
    document = {
        "format": routine_document.FORMAT,
        "durations": {"reserve_routine_after": 4 * 3600, "ack_timeout": 15 * 60},
        "triage": {"questions": [], "proposals": []},
        "scenarios": [],
        "notices": [],
    }
    if label:
        document["label"] = label
    return document


def new_routine(user, *, key: str, name: str, system: str) -> RoutineVersion:
    """Ny rutin: a routine for another system, made on the pages by the one who publishes,
    its first version an empty draft to fill in."""
    if not may_publish(user):
        raise ActionRefused(_("Bara Verksamhetsansvarig får lägga till en rutin."), code="forbidden")
    document = {**empty_document(), "messages": notice_texts.first_words((key or "").strip(), (system or "").strip())}
    return create_routine(user, key=key, name=name, system=system, document=document)


def create_routine(user, *, key: str, name: str, system: str, document) -> RoutineVersion:
    """A new routine for another system, its first version a draft holding ``document``."""
    if not may_edit(user):
        raise ActionRefused(_("Du får inte ändra rutinen."), code="forbidden")
    key, name, system = (key or "").strip(), name or "", system or ""
    if not slug_re.fullmatch(key or "") or len(key) > KEY_MAX:
        raise ActionRefused(
            lambda: _("Rutinens nyckel får bara ha a–z, 0–9, - och _ (högst %(max)d tecken).") % {"max": KEY_MAX},
            code="invalid",
        )
    for value, most, label in ((name, NAME_MAX, _("Rutinens namn")), (system, SYSTEM_MAX, _("System"))):
        if not value.strip():
            raise ActionRefused(lambda label=label: _("%(field)s behövs.") % {"field": label}, code="invalid")
        if len(value) > most:
            raise ActionRefused(
                lambda label=label, most=most: (
                    _("%(field)s får vara högst %(max)d tecken.") % {"field": label, "max": most}
                ),
                code="invalid",
            )
    document = _explicit(document, key=key, name=name.strip(), system=system.strip())
    _checked(document)
    try:
        with transaction.atomic():
            routine = Routine.objects.create(key=key, name=name.strip(), system=system.strip())
            return RoutineVersion.objects.create(routine=routine, number=1, document=document)
    except IntegrityError:
        raise ActionRefused(_("Det finns redan en rutin med den nyckeln."), code="conflict") from None


def save_draft(user, version_id: int, document, *, revision: int) -> RoutineVersion:
    """Replace a draft's document; ``revision`` is the one the editor read."""
    if not may_edit(user):
        raise ActionRefused(_("Du får inte ändra rutinen."), code="forbidden")
    routine = Routine.objects.filter(versions__pk=version_id).first()
    document = _explicit(document, routine)
    with transaction.atomic():
        version = RoutineVersion.objects.select_for_update().filter(pk=version_id).first()
        if version is None:
            raise ActionRefused(_("Versionen finns inte."), code="not_found")
        if version.is_published:
            raise ActionRefused(_("En publicerad version ändras aldrig: gör ett nytt utkast."))
        if version.revision != revision:
            # Said first: the form was read from a draft that is no longer there.
            raise ActionRefused(_("Utkastet har ändrats av någon annan sedan du öppnade det: läs in det igen."))
        _checked(document)
        if document == version.document:
            return version  # nothing changed: others' open forms stay current
        RoutineVersion.objects.filter(pk=version.pk).update(document=document, revision=F("revision") + 1)
        version.refresh_from_db()
        return version


def publish(user, version_id: int, reason: str, *, revision: int) -> RoutineVersion:
    """Make a draft the version in force, with the reason kept beside it."""
    if not may_publish(user):
        raise ActionRefused(_("Bara Verksamhetsansvarig får publicera rutinen."), code="forbidden")
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused(_("Skriv kort varför rutinen ändras."), code="invalid")
    if len(reason) > REASON_MAX:
        raise ActionRefused(lambda: _("Skälet får vara högst %(max)d tecken.") % {"max": REASON_MAX}, code="invalid")
    with transaction.atomic():
        version = RoutineVersion.objects.select_for_update().filter(pk=version_id).first()
        if version is None:
            raise ActionRefused(_("Versionen finns inte."), code="not_found")
        if version.is_published:
            raise ActionRefused(_("Versionen är redan publicerad."))
        if version.revision != revision:
            raise ActionRefused(_("Utkastet har ändrats av någon annan sedan du öppnade det: läs in det igen."))
        document = _explicit(version.document, version.routine)
        _checked(document, draft=False)
        newer = RoutineVersion.objects.filter(
            routine_id=version.routine_id, status=RoutineVersion.Status.PUBLISHED, number__gt=version.number
        ).exists()
        if newer:
            raise ActionRefused(_("En nyare version är redan publicerad."))
        try:
            RoutineVersion.objects.filter(pk=version.pk).update(
                document=document,
                status=RoutineVersion.Status.PUBLISHED,
                published_at=timezone.now(),
                published_by=user,
                reason=reason,
            )
        except IntegrityError:
            raise ActionRefused(_("Versionen kunde inte publiceras.")) from None
        # A routine's first version makes the pages name the system.
        transaction.on_commit(loader.routines_changed)
        version.refresh_from_db()
        return version
