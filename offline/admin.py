"""What arrived from devices after the network came back, read-only."""

from django.contrib import admin

from incidents.admin import ReadOnlyAdmin

from .models import OfflineSubmission


@admin.register(OfflineSubmission)
class OfflineSubmissionAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "made_at", "kind", "incident", "user", "client_id"]
    list_filter = ["kind"]
    list_select_related = ["incident", "user"]
