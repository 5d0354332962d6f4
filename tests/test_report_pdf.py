"""The incident report downloads as a PDF on A4, with its chart, made by the same machinery
as the emergency pack."""

import pytest
from conftest import squeezed
from django.urls import reverse

from incidents import services
from incidents.models import Task

pytestmark = pytest.mark.django_db


def test_report_pdf_is_a4_with_timeline_review_and_chart(client, ks, vs, sa, va, open_incident, pdf_text):
    incident = open_incident(summary="Sesam LMN svarar inte i Hässleholm")
    services.escalate(vs, incident.pk)
    services.acknowledge(sa, incident.pk)
    services.record_prognosis(sa, incident.pk, None)
    services.resolve(sa, incident.pk)
    for task in Task.objects.filter(incident=incident, done_at__isnull=True):
        services.complete_task(va, task.pk)
    services.close(
        va,
        incident.pk,
        review={
            "what_happened": "Databasservern föll",
            "deviations": "Leverantören kontaktades sent",
            "actions": "Ny rutin för jour",
        },
    )
    client.force_login(ks)
    response = client.get(reverse("review:incident_report", args=[incident.pk]), {"ladda-ner": "1"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="storning-{incident.pk}-rapport.pdf"' in response["Content-Disposition"]
    data = response.content
    assert pdf_text.info(data)["Page size"].strip() == "595.276 x 841.89 pts (A4)"

    text = squeezed(pdf_text(data))
    for expected in (
        f"Störning #{incident.pk}",
        "Sesam LMN svarar inte i Hässleholm",
        "Databasservern föll",
        "Leverantören kontaktades sent",
        "Anmäld → kvitterad av SA",
        "Eskalera till systemansvarig",
        "Rutinens steg",
        "Tidslinje",
    ):
        assert squeezed(expected) in text, expected
    # The chart is drawn into the PDF as vector text, not left out: its own labels are there.
    assert squeezed("Reservrutinens gräns") in text
    assert text.count(squeezed("Anmäld → driften återställd")) >= 2  # the table and the chart
