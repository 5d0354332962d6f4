"""Two people pressing the same button at the same moment (DESIGN section 3, row locks)."""

import threading

import pytest
from django.db import connection

from incidents import services
from incidents.models import Incident, TimelineEvent
from incidents.services import ActionRefused


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sa_pressing_kvittera_at_once_acknowledge_exactly_once(require_postgres, make_user, open_incident, vs):
    first, second = make_user("systemansvarig"), make_user("systemansvarig")
    incident = open_incident(scenario="sesam_unreachable")
    services.escalate(vs, incident.pk)

    barrier = threading.Barrier(2)
    results = {}

    def press(user):
        try:
            barrier.wait(timeout=10)
            services.acknowledge(user, incident.pk)
            results[user.pk] = "ok"
        except ActionRefused as refused:
            results[user.pk] = refused
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(u,)) for u in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)

    outcomes = list(results.values())
    assert outcomes.count("ok") == 1, outcomes
    (refused,) = [o for o in outcomes if o != "ok"]
    assert refused.code == "conflict"
    winner = first if results[first.pk] == "ok" else second
    assert refused.message.startswith(
        f"Eskaleringen är redan kvitterad av {winner.get_full_name()} (Systemansvarig) kl. "
    )

    assert Incident.objects.get(pk=incident.pk).state == "acknowledged"
    acks = TimelineEvent.objects.filter(incident=incident, kind=TimelineEvent.Kind.TRANSITION, data__name="acknowledge")
    assert acks.count() == 1
    assert acks.get().actor == winner
