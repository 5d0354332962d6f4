import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("incidents:live"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_kundservice_sees_live_list_in_swedish(client, ks):
    client.force_login(ks)
    response = client.get(reverse("incidents:live"))
    assert response.status_code == 200
    assert "Pågående störningar" in response.content.decode()
