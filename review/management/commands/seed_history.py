"""Fill the database with plausible ended incidents and their timelines (for demos and benchmarks).

Each incident gets about twenty timeline events, its tasks and its metrics row, written with
``bulk_create`` in batches; each batch recounts the figures of the months it added to. New
incidents are placed *before* the oldest one already there, at ``--per-day`` incidents a day,
so running the command again makes the history longer, not the recent months denser.
"""

import json
import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import JSONField
from django.utils import timezone

from incidents.models import Incident, Task, TimelineEvent
from review import metrics, services
from review.models import IncidentMetrics
from routines import loader
from runbook import scenarios
from runbook.scenarios import Role

SCENARIO_WEIGHTS = (
    (scenarios.SESAM_UNREACHABLE.key, 50),
    (scenarios.KUNDSERVICE_LINK_LOSS.key, 20),
    (scenarios.TELEPHONY_FAULT.key, 20),
    (scenarios.FULL_IT_OUTAGE.key, 10),
)
SUMMARIES = (
    "Sesam LMN svarar inte vid inloggning",
    "Förskrivare får felmeddelande vid sparande",
    "Kundservice når inte Sesam LMN efter kabelbrott",
    "Telefonin ligger nere i Kundservice",
    "Region Skånes IT har ett större avbrott",
    "Långsamma svarstider och timeout i Sesam LMN",
    "Inkontinensbeställningar går inte att skicka",
    "Speciallivsmedel kan inte förskrivas",
)
NOTES = (
    "SA bekräftar fel i databasservern",
    "Leverantören felsöker lastbalanseraren",
    "Driftinfo uppdaterad",
    "Flera vårdcentraler i Malmö berörda",
    "Förskrivare i Lund rapporterar samma fel",
    "Certifikatet förnyat av leverantören",
    "Nätverksfel i datahallen",
    "Omstart av applikationsservern planerad",
)
FUNCTIONS = ("Inloggning", "Spara förskrivning", "Sök produkt", "Skriva ut")
CHANNELS = ("email", "driftinfo", "telephony", "vardgivare_skane")


class Command(BaseCommand):
    help = "Seed N plausible ended incidents with timelines (about 20 events each)."

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, default=1000)
        parser.add_argument("--per-day", type=float, default=10.0)
        parser.add_argument("--batch", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, incidents, per_day, batch, seed, **options):
        rng = random.Random(seed)
        users = self._users()
        routine = loader.in_force()  # the history is made under the routine in force
        oldest = IncidentMetrics.objects.order_by("reported_at").values_list("reported_at", flat=True).first()
        anchor = (oldest or timezone.now() - timedelta(days=1)) - timedelta(minutes=5)
        step = timedelta(days=1) / per_day
        made = 0
        while made < incidents:
            n = min(batch, incidents - made)
            times = [
                anchor - step * (made + i) - timedelta(seconds=rng.randint(0, int(step.total_seconds() * 0.8)))
                for i in range(n)
            ]
            self._batch(rng, users, times, routine)
            made += n
            self.stdout.write(f"{made}/{incidents}")
        self.stdout.write(self.style.SUCCESS(f"{made} avslutade störningar skapade."))

    def _users(self):
        User = get_user_model()
        users = {}
        for role in Role.ALL:
            user, created = User.objects.get_or_create(
                username=f"historik-{role}", defaults={"first_name": role.title(), "is_active": False}
            )
            group = Group.objects.filter(name=role).first()
            if created and group:
                user.groups.add(group)
            users[role] = user
        return users

    @transaction.atomic
    def _batch(self, rng, users, times, routine):
        plans = [Plan(rng, users, at, routine) for at in times]
        objs = Incident.objects.bulk_create([p.incident() for p in plans])
        for plan, incident in zip(plans, objs, strict=True):
            plan.incident_obj = incident
        # Seeded events name their task by scenario and step (reports.derive accepts that), so
        # tasks and events need no ids back and go in with COPY on PostgreSQL.
        bulk_insert(Task, [t for p in plans for t in p.task_objects()])
        bulk_insert(TimelineEvent, [e for p in plans for e in p.event_objects()])
        rows = IncidentMetrics.objects.bulk_create(
            [metrics.row_for(p.incident_obj, p.events_made) for p in plans], batch_size=2000
        )
        services.refresh_figures_months({services.figures_key(row) for row in rows})


def bulk_insert(model, objs):
    """COPY on PostgreSQL (ten times faster for a million events), bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=5000)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                row = []
                for f in fields:
                    value = getattr(obj, f.attname)
                    row.append(json.dumps(value) if isinstance(f, JSONField) else value)
                copy.write_row(row)


class Plan:
    """One incident's life, simulated: what happened when, then written as rows."""

    def __init__(self, rng, users, reported_at, routine):
        self.rng, self.users, self.t0, self.routine = rng, users, reported_at, routine
        self.scenario = rng.choices([s for s, _w in SCENARIO_WEIGHTS], [w for _s, w in SCENARIO_WEIGHTS])[0]
        self.began_at = reported_at - timedelta(minutes=rng.choice((0, 0, 0, 5, 15, 40)))
        self.summary = rng.choice(SUMMARIES)
        self.events = []  # (at, kind, actor, message, note, data)
        self.tasks = []  # dicts
        self.state = "reported"
        self.reached = {"reported"}
        self.plan()

    # --- simulation -----------------------------------------------------------------
    def minutes(self, low, high):
        return timedelta(minutes=self.rng.uniform(low, high))

    def log(self, at, kind, actor, message, note="", **data):
        self.events.append((at, kind, actor, message, note, data))

    def move(self, at, name, to, actor, **extra):
        self.events.append(
            (
                at,
                "transition",
                actor,
                f"{name} – status: {to}",
                "",
                {"name": name, "from": self.state, "to": to, **extra},
            )
        )
        self.state = to
        self.reached.add(to)
        self.make_tasks(at, to)
        for task in self.tasks:
            step = self.routine.scenarios[task["scenario"]].step(task["step"])
            if step.done_by == name and task["done_at"] is None:
                self.done(task, at, actor, via=name)

    def make_tasks(self, at, state):
        scenario = self.routine.scenarios[self.scenario]
        have = {(t["scenario"], t["step"]) for t in self.tasks}
        for step in scenario.steps:
            if step.due_on != state or (scenario.key, step.key) in have:
                continue
            if step.only_after and step.only_after not in self.reached:
                continue
            due = at + step.within if step.within else None
            task = {
                "scenario": scenario.key,
                "step": step.key,
                "role": step.role,
                "text": str(step.instruction),
                "created_at": at,
                "due_at": due,
                "done_at": None,
                "done_by": None,
                "n": len(self.tasks),
            }
            self.tasks.append(task)
            self.log(
                at,
                "task_created",
                None,
                f"Ny uppgift: {task['text'][:60]}",
                scenario=scenario.key,
                step=step.key,
                role=step.role,
                due_at=due.isoformat() if due else None,
            )

    def done(self, task, at, actor, via=None):
        task["done_at"], task["done_by"] = at, actor
        self.log(
            at,
            "task_done",
            actor,
            f"Uppgift klar: {task['text'][:60]}",
            step=task["step"],
            scenario=task["scenario"],
            via=via,
        )

    def finish_open_tasks(self, until):
        for task in self.tasks:
            if task["done_at"] is None:
                within = (task["due_at"] - task["created_at"]) if task["due_at"] else timedelta(minutes=30)
                late = self.rng.random() < 0.15
                at = task["created_at"] + within * (self.rng.uniform(1.1, 2.0) if late else self.rng.uniform(0.2, 0.95))
                self.done(task, min(at, until), self.users[task["role"]])

    def plan(self):
        rng, u, t = self.rng, self.users, self.t0
        self.log(
            t,
            "reported",
            u[Role.KUNDSERVICE],
            f"Störning anmäld: {self.routine.scenarios[self.scenario].title}",
            scenario=self.scenario,
            began_at=self.began_at.isoformat(),
            triage={},
        )
        self.make_tasks(t, "reported")
        if self.scenario == scenarios.KUNDSERVICE_LINK_LOSS.key and rng.random() < 0.08:
            t += self.minutes(5, 30)
            self.log(
                t,
                "reclassified",
                u[Role.VERKSAMHETSSPECIALIST],
                "Nytt scenario",
                **{"from": self.scenario, "to": scenarios.SESAM_UNREACHABLE.key},
            )
            self.scenario = scenarios.SESAM_UNREACHABLE.key
            self.make_tasks(t, "reported")
        for _i in range(rng.randint(2, 4)):
            self.log(
                t + self.minutes(1, 60),
                "caller_report",
                u[Role.KUNDSERVICE],
                "Samtal från förskrivare",
                rng.choice(("", "Error 503")),
                functions=rng.choice(FUNCTIONS),
                prescribers=rng.randint(1, 5),
            )
        if rng.random() < 0.04:
            t += self.minutes(3, 20)
            self.events.append(
                (
                    t,
                    "transition",
                    u[Role.VERKSAMHETSANSVARIG],
                    "Makulera – status: cancelled",
                    "Falsklarm",
                    {"name": "cancel", "from": self.state, "to": "cancelled"},
                )
            )
            self.state = "cancelled"
            return
        if self.scenario == scenarios.SESAM_UNREACHABLE.key:
            t += self.minutes(1, 12)
            self.move(t, "escalate", "escalated", u[Role.VERKSAMHETSSPECIALIST])
            self.log(t, "notification", None, "E-post till systemansvarig", channel="email", status="sent")
            t += self.minutes(2, 25) if rng.random() < 0.85 else self.minutes(16, 60)
            self.move(t, "acknowledge", "acknowledged", u[Role.SYSTEMANSVARIG])
            self.log(t + self.minutes(2, 20), "it_contact", u[Role.SYSTEMANSVARIG], "Ärende hos Servicedesk/Ritz")
            if rng.random() < 0.7:
                t += self.minutes(10, 90)
                self.log(
                    t, "prognosis", u[Role.SYSTEMANSVARIG], "Prognos", expected_at=(t + timedelta(hours=2)).isoformat()
                )
                for task in self.tasks:
                    if task["step"] == "give_prognosis" and task["done_at"] is None:
                        self.done(task, t, u[Role.SYSTEMANSVARIG], via="record_prognosis")
                t += self.minutes(20, 200)
            else:
                by_hand = rng.random() < 0.25
                reserve_at = (
                    self.began_at
                    + loader.duration(self.routine, "reserve_routine_after")
                    - (self.minutes(30, 120) if by_hand else timedelta(0))
                )
                t = max(t + timedelta(minutes=1), reserve_at)
                self.move(
                    t, "activate_reserve_routine", "reserve_routine", u[Role.VERKSAMHETSANSVARIG] if by_hand else None
                )
                self.log(
                    t,
                    "notification",
                    None,
                    "Vårdgivare Skåne: reservrutin gäller",
                    channel="vardgivare_skane",
                    status="sent",
                )
                t += self.minutes(30, 300)
        elif self.scenario == scenarios.FULL_IT_OUTAGE.key:
            t += self.minutes(2, 15)
            self.move(t, "await_it", "awaiting_it", u[Role.VERKSAMHETSSPECIALIST])
            t += self.minutes(30, 400)
        else:
            self.log(
                t + self.minutes(1, 10),
                "notification",
                None,
                "Lavinmeddelande på telefonslingan",
                channel="telephony",
                status="sent",
            )
            t += self.minutes(15, 240)
        for _i in range(rng.randint(1, 3)):
            self.log(t - self.minutes(1, 10), "note", u[Role.VERKSAMHETSSPECIALIST], "Anteckning", rng.choice(NOTES))
        self.log(
            t - self.minutes(1, 5), "notification", None, "Begäran om driftinfo", channel="driftinfo", status="sent"
        )
        self.finish_open_tasks(t)
        self.move(t, "resolve", "resolved", u[Role.SYSTEMANSVARIG])
        t += self.minutes(10, 90)
        self.finish_open_tasks(t)
        t += self.minutes(60, 2 * 24 * 60)
        self.move(
            t,
            "close",
            "closed",
            u[Role.VERKSAMHETSANSVARIG],
            review={
                "what_happened": self.summary,
                "deviations": "" if rng.random() < 0.7 else "Eskaleringen dröjde",
                "actions": rng.choice(("", "Uppdatera kontaktlistan", "Genomgång med leverantören")),
            },
        )

    # --- rows ----------------------------------------------------------------------
    def incident(self):
        ended = max(e[0] for e in self.events)
        return Incident(
            pinned_version_id=self.routine.id,
            routine_version=self.routine.label,
            scenario=self.scenario,
            state=self.state,
            summary=self.summary,
            began_at=self.began_at,
            reported_at=self.t0,
            reported_by=self.users[Role.KUNDSERVICE],
            ended_at=ended,
            cancel_reason="Falsklarm" if self.state == "cancelled" else "",
            prognosis_kind="missing",
        )

    def task_objects(self):
        self.task_rows = [
            Task(
                incident=self.incident_obj,
                scenario=t["scenario"],
                step_key=t["step"],
                role=t["role"],
                text=t["text"],
                due_at=t["due_at"],
                created_at=t["created_at"],
                done_at=t["done_at"],
                done_by=t["done_by"],
            )
            for t in self.tasks
        ]
        return self.task_rows

    def event_objects(self):
        made = []
        for at, kind, actor, message, note, data in sorted(self.events, key=lambda e: e[0]):
            made.append(
                TimelineEvent(
                    incident=self.incident_obj,
                    at=at,
                    kind=kind,
                    actor=actor,
                    actor_label=(actor.get_full_name() or actor.username) if actor else "Systemet",
                    message=message[:500],
                    note=note,
                    data=data,
                )
            )
        self.events_made = made
        return made
