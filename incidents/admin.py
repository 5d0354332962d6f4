"""Read-only views of incidents for administrators: history is changed only through services."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Contact, DutyHours, Incident, ReserveOrder, Task, TimelineEvent, Timer


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0
    can_delete = False
    readonly_fields = ["role", "text", "due_at", "done_at", "done_by"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["id", "system", "scenario_title", "state", "began_at", "reported_by", "ended_at"]
    list_filter = ["state", "pinned_version__routine", "scenario"]
    search_fields = ["summary"]
    inlines = [TaskInline]

    @admin.display(description=_("system"))
    def system(self, obj):
        return obj.system

    @admin.display(description=_("scenario"), ordering="scenario")
    def scenario_title(self, obj):
        """The title in the version the incident is pinned to (the column keeps only the key)."""
        return obj.scenario_title


@admin.register(TimelineEvent)
class TimelineEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "incident", "kind", "actor_label", "message"]
    list_filter = ["kind"]
    list_select_related = ["incident"]


@admin.register(ReserveOrder)
class ReserveOrderAdmin(ReadOnlyAdmin):
    list_display = ["reference", "incident", "product_area", "entered_in_sesam"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["kind", "name", "phone", "email", "active"]
    list_filter = ["kind", "active"]


@admin.register(DutyHours)
class DutyHoursAdmin(admin.ModelAdmin):
    """SA's weekly hours in Swedish time; Swedish public holidays and midsommar-, jul- and nyårsafton are always off duty."""

    list_display = ["weekday", "start", "end"]
    list_editable = ["start", "end"]
    ordering = ["weekday", "start"]


@admin.register(Timer)
class TimerAdmin(ReadOnlyAdmin):
    list_display = ["incident", "kind", "due_at", "state", "fired_at", "outcome"]
    list_filter = ["kind", "state"]
    list_select_related = ["incident"]
