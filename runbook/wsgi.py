import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "runbook.settings")

application = get_wsgi_application()

# A first ring of the broker after a commit would otherwise load the tasks and the transport
# while a person waits (runbook/doorbell.py).
from runbook import doorbell  # noqa: E402

doorbell.warm()
