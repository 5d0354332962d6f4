from django.db import models


class Heartbeat(models.Model):
    """When a periodic process last ran (the beat-driven sweep writes ``sweep``)."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"
