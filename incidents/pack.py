"""The routine pack: what a person needs when the app cannot be reached.

``routine_pack()`` gathers it once (the routine in force with each role's steps, the caller
scripts, the triage questions, the contacts with phone numbers): the emergency pack on paper
is printed from it, and the copy kept on a device is made from it, so both say the same.

``emergency_pack()`` is that pack as a PDF, made once per edition and kept in the database:
a new routine version, a changed contact or a changed Servicedesk number or driftinfo address
is a new edition, and so a new pack.
"""

import hashlib
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from routines import loader
from runbook import pdf, routine
from runbook.formatting import format_duration
from runbook.scenarios import Role

from .models import Contact, EmergencyPack, ReserveOrder

# Editions kept besides the newest (older ones are dropped as new ones are made).
KEEP_EDITIONS = 5
# Blank rows on each log sheet (one A4 page each).
LOG_SHEET_ROWS = 12


@dataclass(frozen=True)
class PackStep:
    key: str
    instruction: str
    when: str
    within: str


@dataclass(frozen=True)
class PackRole:
    key: str
    label: str
    steps: tuple[PackStep, ...]


@dataclass(frozen=True)
class PackScenario:
    key: str
    title: str
    routine_text: str
    roles: tuple[PackRole, ...]
    caller_script: tuple[str, ...]
    # Said instead once the reserve routine applies (empty where it never does).
    caller_script_reserve: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackContact:
    kind: str
    kind_label: str
    name: str
    phone: str
    email: str
    note: str


@dataclass(frozen=True)
class RoutinePack:
    routine_version: str
    language: str
    scenarios: tuple[PackScenario, ...]
    triage_questions: tuple[str, ...]
    # (question, scenario title), in the order the guide asks: "Nej" names the scenario.
    triage_rules: tuple[tuple[str, str], ...]
    contacts: tuple[PackContact, ...]
    # Kinds of contact the routine names that have no active contact in the app.
    missing_contact_kinds: tuple[str, ...]
    servicedesk_phone: str
    driftinfo_url: str
    product_areas: tuple[str, ...] = field(default=())

    @property
    def edition(self):
        """A short digest of everything printed: equal packs have equal editions."""
        facts = json.dumps(
            [
                self.routine_version,
                self.language,
                self.servicedesk_phone,
                self.driftinfo_url,
                [list(c.__dict__.values()) for c in self.contacts],
            ],
            ensure_ascii=False,
        )
        return hashlib.sha256(facts.encode()).hexdigest()[:10]

    @property
    def key(self):
        return f"{self.routine_version}:{self.language}:{self.edition}"


def _step(step):
    return PackStep(
        key=step.key,
        instruction=str(step.instruction),
        when=str(routine.due_words(step)),
        within=format_duration(step.within) if step.within else "",
    )


def _scenario(scenario):
    roles = []
    for role in Role.ALL:  # the routine's order of roles (section 2)
        steps = tuple(_step(s) for s in scenario.steps if s.role == role)
        if steps:
            roles.append(PackRole(key=role, label=str(Role.label(role)), steps=steps))
    return PackScenario(
        key=scenario.key,
        title=str(scenario.title),
        routine_text=str(scenario.routine_text),
        roles=tuple(roles),
        caller_script=tuple(str(line) for line in routine.caller_script(scenario)),
        caller_script_reserve=tuple(str(line) for line in routine.caller_script(scenario, routine.RESERVE)),
    )


def routine_pack():
    """The routine in force and its contacts, in the current language, as plain data."""
    in_force = loader.in_force()
    titles = {key: s.title for key, s in in_force.scenarios.items()}
    order = list(Contact.Kind.values)
    contacts = sorted(Contact.objects.filter(active=True), key=lambda c: (order.index(c.kind), c.name, c.pk))
    present = {c.kind for c in contacts}
    printed = [
        PackContact(
            kind=c.kind, kind_label=str(c.get_kind_display()), name=c.name, phone=c.phone, email=c.email, note=c.note
        )
        for c in contacts
    ]
    if Contact.Kind.SERVICEDESK not in present:  # the routine names its number: it is a setting
        printed.insert(
            0,
            PackContact(
                kind=Contact.Kind.SERVICEDESK,
                kind_label=str(Contact.Kind.SERVICEDESK.label),
                name=str(_("Servicedesk Region Skåne (eller ärende i Ritz)")),
                phone=settings.SERVICEDESK_PHONE,
                email="",
                note="",
            ),
        )
    return RoutinePack(
        routine_version=in_force.label,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        scenarios=tuple(_scenario(s) for s in in_force.scenarios.values()),
        triage_questions=tuple(str(text) for _key, text in in_force.triage_questions),
        triage_rules=tuple(
            (str(dict(in_force.triage_questions)[name]), str(titles[key]))
            for name, answer, key in in_force.triage_proposals
            if answer is False
        ),
        contacts=tuple(printed),
        missing_contact_kinds=tuple(
            str(label)
            for kind, label in Contact.Kind.choices
            if kind not in present and kind != Contact.Kind.SERVICEDESK
        ),
        servicedesk_phone=settings.SERVICEDESK_PHONE,
        driftinfo_url=settings.DRIFTINFO_PUBLIC_URL,
        product_areas=tuple(str(label) for _v, label in ReserveOrder.ProductArea.choices),
    )


def render_html(pack, made_at):
    return render_to_string(
        "incidents/emergency_pack.html",
        {
            "pack": pack,
            "made_at": made_at,
            "inline_css": pdf.static_text("css/pack.css"),
            "rows": range(LOG_SHEET_ROWS),
        },
    )


def emergency_pack():
    """The emergency pack of the routine in force: the stored one of this edition, or a new one."""
    pack = routine_pack()
    found = EmergencyPack.objects.filter(key=pack.key).first()
    if found is not None:
        return found
    made_at = timezone.now()
    document = pdf.html_to_pdf(render_html(pack, made_at))
    try:
        with transaction.atomic():
            made = EmergencyPack.objects.create(
                key=pack.key,
                routine_version=pack.routine_version,
                language=pack.language,
                made_at=made_at,
                pdf=document,
            )
    except IntegrityError:  # someone else made this edition at the same moment: theirs it is
        return EmergencyPack.objects.get(key=pack.key)
    stale = EmergencyPack.objects.filter(language=pack.language).values_list("pk", flat=True)[KEEP_EDITIONS + 1 :]
    EmergencyPack.objects.filter(pk__in=list(stale)).delete()
    return made
