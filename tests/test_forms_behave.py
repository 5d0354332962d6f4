"""Forms say what is wrong in Swedish, keep what was typed, and share no ids on a page."""

import re
from collections import Counter
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from incidents.models import Incident

pytestmark = pytest.mark.django_db

STATES = ["reported", "escalated", "acknowledged", "reserve_routine", "resolved", "closed", "cancelled"]


class Ids(HTMLParser):
    """Every id on a page, every form and the fields that carry a limit for the browser."""

    def __init__(self, html):
        super().__init__()
        self.ids = Counter()
        self.forms = []
        self.limited = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids[attrs["id"]] += 1
        if tag == "form":
            self.forms.append(attrs)
        if "maxlength" in attrs:
            self.limited.append((tag, attrs.get("name")))


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("state", STATES)
def test_incident_page_has_no_duplicate_ids_and_no_browser_validation(state, incident_in, everyone, client_as):
    incident = incident_in("sesam_unreachable", state)
    parsed = Ids(page(client_as(everyone), reverse("incidents:detail", args=[incident.pk])))
    assert [i for i, n in parsed.ids.items() if n > 1] == []
    # The prognosis and the reclassify form each have a note; each its own id, each labelled.
    if state in ("acknowledged", "escalated"):
        assert parsed.ids["id_prognosis-note"] == 1 and parsed.ids["id_reclassify-note"] == 1
    # The server checks every field, in Swedish; the browser neither checks nor cuts.
    posting = [f for f in parsed.forms if f.get("method") == "post" and "set_language" not in f.get("action", "")]
    assert posting
    assert [f.get("action") for f in parsed.forms if "novalidate" not in f and _has_fields(f)] == []
    assert parsed.limited == []


def _has_fields(form_attrs):
    # Forms with only a button (logout, "Klar", "Skicka om") cannot be refused by a browser.
    action = form_attrs.get("action", "")
    return not any(part in action for part in ("/logga-ut/", "/klar/", "/skicka-om/", "/inlagd/", "/sprak/"))


def test_report_page_has_no_duplicate_ids_and_tells_the_summary_limit(ks, client_as):
    html = page(client_as(ks), reverse("incidents:report"))
    parsed = Ids(html)
    assert [i for i, n in parsed.ids.items() if n > 1] == []
    assert "novalidate" in parsed.forms[-1]
    assert parsed.limited == []
    assert "Högst 500 tecken." in html


def test_a_pasted_summary_over_the_limit_is_refused_with_a_message_and_kept(ks, client_as):
    summary = ("Förskrivarna kommer inte in. " * 21).strip()  # 608 characters
    response = client_as(ks).post(
        reverse("incidents:report"),
        {
            "scenario": "sesam_unreachable",
            "summary": summary,
            "action": "report",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert f"Högst 500 tecken (texten har {len(summary)}). Korta den och försök igen." in html
    textarea = re.search(r'<textarea name="summary"[^>]*>(.*?)</textarea>', html, re.S)
    assert textarea and textarea.group(1).strip() == summary
    assert Incident.objects.count() == 0


def test_a_report_without_scenario_or_summary_gets_swedish_messages(ks, client_as):
    response = client_as(ks).post(reverse("incidents:report"), {"action": "report"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Välj det scenario som stämmer." in html
    assert "Skriv en kort sammanfattning." in html
    assert Incident.objects.count() == 0


def test_a_transition_note_too_long_is_refused_at_its_action_and_kept(incident_in, vs, client_as, snapshot):
    incident = incident_in("sesam_unreachable", "reported")
    before = snapshot(incident)
    note = ("SA nås inte på telefon, försöker igen. " * 110).strip()  # 4,289 characters
    response = client_as(vs).post(reverse("incidents:transition", args=[incident.pk, "escalate"]), {"note": note})
    html = response.content.decode()
    assert response.status_code == 400
    assert snapshot(incident) == before
    field = re.search(r'<input type="text" name="note" id="note-escalate"[^>]*>', html).group(0)
    assert f'value="{note}"' in field
    assert 'aria-invalid="true"' in field and 'aria-describedby="note-escalate_error"' in field
    error = re.search(r'<p class="error" id="note-escalate_error">(.*?)</p>', html, re.S).group(1)
    assert f"Högst 4000 tecken (texten har {len(note)})" in error
    # Only the action the note was written for shows it.
    assert html.count(note) == 1


def test_cancelling_without_a_reason_is_refused_in_swedish(open_incident, ks, client_as, snapshot):
    incident = open_incident()
    before = snapshot(incident)
    response = client_as(ks).post(reverse("incidents:transition", args=[incident.pk, "cancel"]), {"reason": ""})
    assert response.status_code == 400
    assert "Ange varför störningen makuleras." in response.content.decode()
    assert snapshot(incident) == before


def test_a_prognosis_without_time_is_refused_in_swedish_and_keeps_the_note(incident_in, sa, client_as, snapshot):
    incident = incident_in("sesam_unreachable", "acknowledged")
    before = snapshot(incident)
    response = client_as(sa).post(
        reverse("incidents:prognosis", args=[incident.pk]), {"kind": "at", "expected_at": "", "note": "Omstart pågår"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Ange när Sesam LMN förväntas vara åter" in html
    assert re.search(r'<input type="text" name="note" value="Omstart pågår"[^>]*id="id_prognosis-note"', html)
    assert snapshot(incident) == before


def test_accessibility_statement_is_public_and_says_what_digg_asks(client, settings):
    settings.ACCESSIBILITY_CONTACT_EMAIL = "synpunkter@region.example"
    response = client.get("/tillganglighet/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Tillgänglighet för Driftstörningsrutin Sesam LMN</h1>" in html
    assert "delvis förenlig med lagen om tillgänglighet till digital offentlig service" in html
    assert '<a href="https://www.digg.se/tdosanmalan">' in html
    assert '<a href="mailto:synpunkter@region.example">' in html
    assert "Innehåll som inte är tillgängligt" in html
    assert "axe-core" in html and "enbart tangentbord" in html
    assert re.search(r"Senaste bedömningen gjordes den \d{4}-\d{2}-\d{2}\.", html)


@pytest.mark.parametrize("url", ["/logga-in/", "/tillganglighet/", "/finns-inte/"])
def test_every_page_links_the_accessibility_statement_in_its_footer(url, client):
    html = client.get(url).content.decode()
    footer = html[html.index('<footer class="site-footer">') :]
    assert '<a href="/tillganglighet/"' in footer


def test_signed_in_pages_link_the_accessibility_statement_too(ks, client_as):
    html = page(client_as(ks), "/")
    footer = html[html.index('<footer class="site-footer">') :]
    assert ">Tillgänglighetsredogörelse</a>" in footer


def test_the_api_key_form_refuses_a_long_name_instead_of_cutting_it(vs, client_as):
    client = client_as(vs)
    parsed = Ids(page(client, reverse("tokens")))
    assert parsed.limited == []
    name = "Skript som hämtar pågående störningar till intranätets startsida " * 3
    response = client.post(reverse("tokens"), {"name": name})
    html = response.content.decode()
    assert "Högst 100 tecken" in html and name.strip() in html
    assert not vs.api_tokens.exists()


def test_a_history_search_too_long_is_said_not_cut(va, client_as):
    """A cut search would quietly look for something else than what was pasted."""
    client = client_as(va)
    assert Ids(page(client, "/historik/")).limited == []
    q = "förskrivare på Hjälpmedelscentrum som inte kom åt Sesam LMN under morgonen " * 4
    response = client.get("/historik/", {"q": q})
    html = response.content.decode()
    assert response.status_code == 400 and "Högst 200 tecken" in html and q.strip() in html
