"""Övningar as people see them: the start page, ÖVNING on every page of a drill, the break-off
button, and drills kept apart from the real work (live list, Historik, Nyckeltal, the API)."""

import re

import pytest
from django.urls import reverse

from incidents import drills
from incidents.models import Drill, Incident, State

pytestmark = pytest.mark.django_db

START = "/ovningar/"


def _start_form(**overrides):
    data = {"scenario": "sesam-lmn:sesam_unreachable", "tempo": "30", "custom_scale": "", "summary": ""}
    data.update(overrides)
    return data


def test_only_the_business_side_sees_the_drill_page_and_its_menu_link(client_as, va, vs, ks, sa, tel):
    for person in (ks, sa, tel):
        client = client_as(person)
        assert client.get(START).status_code == 403
        assert client.post(START, _start_form(participants=[person.pk])).status_code == 403
        assert 'href="/ovningar/"' not in client.get("/").content.decode()
    assert not Incident.objects.exists()
    for person in (va, vs):
        client = client_as(person)
        page = client.get(START)
        assert page.status_code == 200
        assert 'href="/ovningar/"' in client.get("/").content.decode()


def test_the_start_form_offers_the_scenarios_in_force_and_people_by_role(client_as, va, ks, sa, make_user):
    make_user("kundservice", username="slutat").__class__.objects.filter(username="slutat").update(is_active=False)
    make_user(username="utan-roll")
    html = client_as(va).get(START).content.decode()

    assert 'value="sesam-lmn:sesam_unreachable"' in html and 'value="sesam-lmn:telephony_fault"' in html
    # One routine in force: no routine to choose.
    assert "(version 1)" not in html
    # People grouped under their role; those without a role or no longer active are not offered.
    assert html.index("<legend>Kundservice</legend>") < html.index(f'value="{ks.pk}"')
    assert html.index("<legend>Systemansvarig</legend>") < html.index(f'value="{sa.pk}"')
    assert "Slutat" not in html and "Utan-Roll" not in html
    # The presets of the time scale and a field of one's own.
    for label in ("Realtid", "4 timmar på 8 minuter", "4 timmar på 2 minuter", "Egen tidsskala"):
        assert label in html


def test_starting_a_drill_opens_its_page_marked_as_a_drill(client_as, va, ks, sa):
    client = client_as(va)
    response = client.post(START, _start_form(participants=[ks.pk, sa.pk], summary="Höstens övning"))

    drill = Incident.objects.get()
    assert response.status_code == 302 and response.url == reverse("incidents:detail", args=[drill.pk])
    assert drill.is_drill and drill.time_scale == 30 and drill.summary == "Höstens övning"
    assert set(Drill.objects.get(incident=drill).participants.all()) == {ks, sa}
    page = client.get(response.url).content.decode()
    assert "ÖVNING – inte en verklig störning" in page
    assert "tiden går 30 gånger fortare" in page.lower()
    assert re.search(r"<title>\s*ÖVNING", page)


@pytest.mark.parametrize(
    ("tempo", "custom", "scale"),
    [("1", "", 1), ("120", "", 120), ("egen", "45", 45), ("egen", "1", 1), ("30", "30", 30)],
)
def test_the_time_scale_is_a_preset_or_a_number_of_ones_own(client_as, va, ks, tempo, custom, scale):
    response = client_as(va).post(START, _start_form(participants=[ks.pk], tempo=tempo, custom_scale=custom))
    assert response.status_code == 302
    assert Incident.objects.get().time_scale == scale


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        ({"scenario": ""}, "Välj vilket scenario som övas."),
        ({"scenario": "sesam-lmn:no_such"}, "Välj ett giltigt alternativ"),
        ({"scenario": "annan-rutin:sesam_unreachable"}, "Välj ett giltigt alternativ"),
        ({"participants": []}, "Välj minst en deltagare."),
        ({"participants": ["987654"]}, "Okänd deltagare."),
        ({"participants": ["x"]}, "Okänd deltagare."),
        ({"tempo": "egen", "custom_scale": ""}, "Skriv hur många gånger fortare klockorna ska gå."),
        ({"tempo": "egen", "custom_scale": "0"}, "Ett heltal från 1 till 120."),
        ({"tempo": "egen", "custom_scale": "121"}, "Ett heltal från 1 till 120."),
        ({"tempo": "egen", "custom_scale": "fort"}, "Ett heltal från 1 till 120."),
        ({"tempo": "60"}, "Välj ett giltigt alternativ"),
        ({"tempo": "30", "custom_scale": "90"}, "Du har valt en tidsskala och skrivit en annan."),
        ({"summary": "x" * 501}, "Högst 500 tecken"),
    ],
)
def test_a_refused_start_says_why_beside_the_form_and_creates_nothing(client_as, va, ks, overrides, said):
    data = _start_form(participants=[ks.pk])
    data.update(overrides)
    response = client_as(va).post(START, data)

    assert response.status_code == 400
    assert said in response.content.decode()
    assert not Incident.objects.exists() and not Drill.objects.exists()


def test_a_refusal_of_the_service_is_said_beside_the_form(client_as, va, ks, monkeypatch):
    from runbook.errors import ActionRefused

    def refuse(*args, **kwargs):
        raise ActionRefused("Ingen övningsmottagare är inställd för driftinfo.", code="invalid")

    monkeypatch.setattr(drills, "start_drill", refuse)
    response = client_as(va).post(START, _start_form(participants=[ks.pk], summary="Behålls"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Ingen övningsmottagare är inställd för driftinfo." in html
    # What was chosen is kept.
    assert f'value="{ks.pk}" id="deltagare-{ks.pk}" checked' in html and "Behålls" in html


def test_the_page_lists_running_drills_and_ended_ones_newest_first(client_as, va, ks):
    first = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], summary="Första")
    second = drills.start_drill(va, scenario="telephony_fault", participants=[ks.pk], summary="Andra")
    running = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], summary="Pågår")
    drills.break_off(va, first.pk, "Verklig störning")
    drills.break_off(va, second.pk, "Slut för idag")

    html = client_as(va).get(START).content.decode()
    running_part = html[html.index('id="pagaende-ovningar"') : html.index('id="starta"')]
    ended_part = html[html.index('id="avslutade-ovningar"') :]
    assert f'href="/storningar/{running.pk}/"' in running_part or f"#{running.pk} " in running_part
    assert "Pågår" in running_part and "Första" not in running_part
    assert ended_part.index("Andra") < ended_part.index("Första")
    assert "Slut för idag" in ended_part


def test_ended_drills_are_paginated(client_as, va, ks):
    from drills.views import ENDED_PAGE_SIZE

    for n in range(ENDED_PAGE_SIZE + 1):
        drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], summary=f"Övning nr {n}")
        drills.break_off(va, drill.pk, "Klar")
    client = client_as(va)
    first = client.get(START).content.decode()
    assert "Övning nr 0<" not in first and f"Övning nr {ENDED_PAGE_SIZE}<" in first
    assert "sida=2" in first
    second = client.get(START + "?sida=2").content.decode()
    assert "Övning nr 0<" in second


# --- Pågående störningar: drills apart ----------------------------------------------------

HTMX = {"HX-Request": "true"}


def _real_list(html):
    """The live list's real table (before the drills' own section)."""
    end = html.find('id="ovningar-pagar"')
    return html if end == -1 else html[:end]


def _drill_section(html):
    start = html.find('id="ovningar-pagar"')
    return "" if start == -1 else html[start:]


def test_the_live_list_shows_real_incidents_and_running_drills_apart(client_as, va, ks, sa, open_incident):
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], summary="Övningen i dag")
    # A real disruption reported while the drill runs is handled as usual.
    real = open_incident(summary="Sesam LMN svarar inte på riktigt")

    for person in (ks, sa, va):
        html = client_as(person).get("/").content.decode()
        real_part, drill_part = _real_list(html), _drill_section(html)
        assert f'data-incident="{real.pk}"' in real_part and f'data-incident="{drill.pk}"' not in real_part
        assert f'data-incident="{drill.pk}"' in drill_part and f'data-incident="{real.pk}"' not in drill_part
        assert "Övningar pågår" in drill_part and "ÖVNING" in drill_part
        # Only the real one is counted (and said to screen readers).
        assert 'data-count="1"' in html

    drills.break_off(va, drill.pk, "Klart")
    html = client_as(ks).get("/").content.decode()
    assert "Övningar pågår" not in html and f'data-incident="{real.pk}"' in html


def test_no_drill_no_drill_section(client_as, ks, open_incident):
    open_incident()
    assert 'id="ovningar-pagar"' not in client_as(ks).get("/").content.decode()


def test_a_change_to_a_drill_reaches_the_live_lists_next_poll(client_as, va, vs, ks, open_incident):
    from incidents import services

    open_incident()
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk])
    client = client_as(ks)
    first = client.get("/", headers=HTMX)
    held = {"If-None-Match": first["ETag"]}
    assert client.get("/", headers={**HTMX, **held}).status_code == 204

    services.escalate(vs, drill.pk)

    changed = client.get("/", headers={**HTMX, **held})
    assert changed.status_code == 200
    assert "Eskalerad till SA" in _drill_section(changed.content.decode())
    assert "Eskalerad till SA" not in _real_list(changed.content.decode())


# --- Historik, Nyckeltal and the API: drills apart, never counted ------------------------

REVIEW = {"what_happened": "Övat enligt rutinen", "deviations": "", "actions": ""}


def _closed(incident, va, vs, sa):
    """Bring an incident (real or drill) of sesam_unreachable through the routine to closed."""
    from incidents import services
    from incidents.models import Task

    services.escalate(vs, incident.pk)
    services.acknowledge(sa, incident.pk)
    services.record_prognosis(sa, incident.pk, None)
    services.resolve(sa, incident.pk)
    for task in Task.objects.filter(incident=incident, done_at__isnull=True):
        services.complete_task(va, task.pk)
    return services.close(va, incident.pk, review=REVIEW)


@pytest.fixture
def one_real_one_drill(va, vs, sa, ks, open_incident):
    """A drill and a real disruption reported while it ran, both closed; a second drill broken off."""
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk, sa.pk], time_scale=30)
    real = open_incident(summary="Verklig störning under övningen")
    _closed(real, va, vs, sa)
    _closed(drill, va, vs, sa)
    other = drills.start_drill(va, scenario="telephony_fault", participants=[ks.pk])
    drills.break_off(va, other.pk, "Avbruten")
    return real, drill, other


def test_historik_shows_real_incidents_by_default_and_drills_when_asked(client_as, va, one_real_one_drill):
    real, drill, other = one_real_one_drill
    client = client_as(va)
    default = client.get(reverse("review:history")).content.decode()
    assert f"#{real.pk} " in default and f"#{drill.pk} " not in default and f"#{other.pk} " not in default
    assert "ÖVNING" not in default.split('id="main"')[1].split("</form>")[1]

    shown = client.get(reverse("review:history"), {"ovningar": "on"}).content.decode()
    listed = shown.split("</form>")[-1]
    assert f"#{drill.pk} " in listed and f"#{other.pk} " in listed and f"#{real.pk} " not in listed
    assert "ÖVNING" in listed
    # The filter is kept in the URL of the CSV.
    assert "historik.csv?ovningar=on" in shown


def test_the_history_csv_has_drills_only_when_asked_and_marks_them(client_as, va, one_real_one_drill):
    import csv
    import io

    real, drill, _other = one_real_one_drill
    client = client_as(va)

    def rows(params=None):
        response = client.get(reverse("review:history_csv"), params or {})
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text), delimiter=";"))[1:]

    assert [r[0] for r in rows()] == [str(real.pk)]
    drill_rows = {r[0]: r for r in rows({"ovningar": "on"})}
    assert str(real.pk) not in drill_rows
    assert drill_rows[str(drill.pk)][1].startswith("ÖVNING: ")


def test_nyckeltal_and_their_csv_count_only_the_real_incident(client_as, va, one_real_one_drill):
    from review.models import FiguresMonth, IncidentMetrics

    real, drill, other = one_real_one_drill
    # The drills have their metrics rows (Historik lists them), marked as drills.
    assert set(IncidentMetrics.objects.filter(is_drill=True).values_list("pk", flat=True)) == {drill.pk, other.pk}
    client = client_as(va)
    figures = client.get(reverse("review:figures")).context["figures"]
    assert figures["totals"]["incidents"] == 1
    assert [(r["scenario"], r["incidents"], r["cancelled"]) for r in figures["monthly"]] == [
        ("sesam_unreachable", 1, 0)
    ]
    assert {d["key"]: d["n"] for d in figures["durations"]}["acknowledged"] == 1
    assert sum(FiguresMonth.objects.values_list("incidents", flat=True)) == 1
    assert sum(FiguresMonth.objects.values_list("cancelled", flat=True)) == 0

    text = client.get(reverse("review:figures_csv")).content.decode("utf-8-sig")
    assert "Avslutade störningar;1" in text
    assert "Eskaleringar;1" in text

    # Rebuilt from the timeline, the figures still leave the drills out.
    from django.core.management import call_command

    call_command("rebuild_incident_metrics", stdout=io_sink())
    assert client.get(reverse("review:figures")).context["figures"]["totals"]["incidents"] == 1
    assert IncidentMetrics.objects.filter(is_drill=True).count() == 2


def io_sink():
    import io

    return io.StringIO()


def test_the_report_of_a_drill_says_övning_on_screen_and_in_the_file(client_as, va, one_real_one_drill, pdf_text):
    real, drill, _other = one_real_one_drill
    client = client_as(va)
    page = client.get(reverse("review:incident_report", args=[drill.pk])).content.decode()
    assert re.search(r"<title>\s*ÖVNING", page)
    assert "ÖVNING – inte en verklig störning" in page and "tiden går 30 gånger fortare" in page.lower()
    timeline = page[page.index('id="timeline-h"') :]
    assert timeline.count('class="badge badge-drill"') == drill.events.count()
    text = pdf_text(client.get(reverse("review:incident_report", args=[drill.pk]), {"ladda-ner": "1"}).content)
    assert "ÖVNING – inte en verklig störning" in text
    assert "ÖVNING" not in client.get(reverse("review:incident_report", args=[real.pk])).content.decode()


def test_the_api_marks_drills_and_lists_real_incidents_unless_asked(api_client, va, ks, open_incident):
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], time_scale=120)
    real = open_incident()
    client = api_client(va)

    listed = client.get("/api/v1/incidents").json()
    assert [i["id"] for i in listed["items"]] == [real.pk] and listed["count"] == 1
    assert listed["items"][0]["is_drill"] is False and listed["items"][0]["time_scale"] == 1
    only_drills = client.get("/api/v1/incidents", {"drill": "true"}).json()
    assert [i["id"] for i in only_drills["items"]] == [drill.pk]
    assert only_drills["items"][0]["is_drill"] is True and only_drills["items"][0]["time_scale"] == 120
    one = client.get(f"/api/v1/incidents/{drill.pk}").json()
    assert one["is_drill"] is True and one["time_scale"] == 120
    assert client.get("/api/v1/incidents", {"drill": "kanske"}).status_code == 422 or (
        client.get("/api/v1/incidents", {"drill": "kanske"}).status_code == 400
    )


# --- the drill's own page: every task and entry marked, the break-off button ---------------


def test_every_task_and_timeline_entry_of_a_drill_says_övning(client_as, va, vs, ks, open_incident):
    from incidents import services

    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk, vs.pk], time_scale=30)
    services.escalate(vs, drill.pk)
    real = open_incident()
    client = client_as(va)
    html = client.get(reverse("incidents:detail", args=[drill.pk])).content.decode()

    tasks = html[html.index('id="uppgifter"') :]
    tasks = tasks[: tasks.index("</section>")]
    timeline = html[html.index('id="tidslinje"') :]
    timeline = timeline[: timeline.index("</section>")]
    task_items = re.findall(r"<li[ >].*?</li>", tasks, re.S)
    assert task_items and all("badge-drill" in item for item in task_items)
    entries = re.findall(r'<li class="event.*?</li>', timeline, re.S)
    assert len(entries) == drill.events.count() and all("badge-drill" in e for e in entries)
    # The texts as stored: the mark is drawn beside them.
    assert drill.events.first().message.startswith("Övning startad")

    plain = client.get(reverse("incidents:detail", args=[real.pk])).content.decode()
    assert "ÖVNING" not in plain and "badge-drill" not in plain


def test_the_drill_banner_is_in_the_kept_page_and_its_poll(client_as, va, ks):
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], time_scale=120)
    url = reverse("incidents:detail", args=[drill.pk])
    for person in (ks, ks, va, va):  # each second time from the kept rendering
        html = client_as(person).get(url).content.decode()
        assert re.search(r"<title>\s*ÖVNING", html)
        assert "ÖVNING – inte en verklig störning" in html and "tiden går 120 gånger fortare" in html.lower()
    part = client_as(ks).get(reverse("incidents:part", args=[drill.pk, "sida"]), headers=HTMX).content.decode()
    assert "ÖVNING – inte en verklig störning" in part


def test_the_break_off_button_takes_a_reason_and_ends_the_drill(client_as, va, vs, ks, sa):
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk, sa.pk])
    url = reverse("incidents:detail", args=[drill.pk])
    action = reverse("incidents:break_off", args=[drill.pk])
    for person in (ks, sa):
        client = client_as(person)
        assert f'action="{action}"' not in client.get(url).content.decode()
        assert client.post(action, {"reason": "Jag vill sluta"}).status_code == 403
    assert Incident.objects.get(pk=drill.pk).is_live

    client = client_as(vs)  # not the leader, but Verksamhetsspecialist
    assert f'action="{action}"' in client.get(url).content.decode()
    refused = client.post(action, {"reason": "  "})
    assert refused.status_code == 400 and "Ange varför övningen avbryts." in refused.content.decode()
    assert Incident.objects.get(pk=drill.pk).is_live

    done = client.post(action, {"reason": "En verklig störning kom in"})
    assert done.status_code == 302
    ended = Incident.objects.get(pk=drill.pk)
    assert ended.state == State.CANCELLED
    assert Drill.objects.get(incident=ended).broken_off_reason == "En verklig störning kom in"
    page = client.get(done.url).content.decode()
    assert "Övningen är avbruten." in page and "Övningen avbröts" in page and "En verklig störning kom in" in page
    assert f'action="{action}"' not in page
    again = client.post(action, {"reason": "Igen"})
    assert again.status_code == 409


def test_a_real_incident_has_no_break_off(client_as, va, open_incident):
    real = open_incident()
    client = client_as(va)
    action = reverse("incidents:break_off", args=[real.pk])
    assert action not in client.get(reverse("incidents:detail", args=[real.pk])).content.decode()
    assert client.post(action, {"reason": "Fel"}).status_code == 409
    assert Incident.objects.get(pk=real.pk).state == State.REPORTED


def test_the_drill_pages_speak_english_when_chosen(client_as, va, ks):
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], time_scale=30)
    client = client_as(va)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    start = client.get(START).content.decode()
    assert "Start a drill" in start and "4 hours in 8 minutes" in start
    page = client.get(reverse("incidents:detail", args=[drill.pk])).content.decode()
    assert re.search(r"<title>\s*DRILL", page)
    assert "DRILL – not a real disruption" in page and "Time runs 30 times faster" in page
    assert "Break off the drill" in page
    assert "Drills running" in client.get("/").content.decode()


def test_with_two_routines_in_force_the_form_asks_for_the_routine_too(client_as, va, ks):
    from pathlib import Path

    from routines import portable
    from routines import services as routine_services

    source = Path(__file__).resolve().parent / "routines" / "journalia-v1.yaml"
    draft = portable.import_file(va, source.read_text(encoding="utf-8"))
    routine_services.publish(va, draft.pk, "Journalia får en egen rutin", revision=draft.revision)
    client = client_as(va)
    html = client.get(START).content.decode()
    assert "Driftstörningsrutin Journalia" in html and 'value="journalia:journalia_unreachable"' in html
    assert 'value="sesam-lmn:sesam_unreachable"' in html

    response = client.post(START, _start_form(scenario="journalia:journalia_unreachable", participants=[ks.pk]))
    assert response.status_code == 302
    drill = Incident.objects.get()
    assert drill.is_drill and drill.scenario == "journalia_unreachable"
    assert drill.routine.routine_key == "journalia"
    # A scenario of one routine under the other's name is not offered, and nothing is made.
    refused = client.post(START, _start_form(scenario="sesam-lmn:journalia_unreachable", participants=[ks.pk]))
    assert refused.status_code == 400 and Incident.objects.count() == 1
