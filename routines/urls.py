from django.urls import path

from . import editor_views, views

app_name = "routines"

urlpatterns = [
    path("rutin/", views.routine_page, name="routine"),
    path("rutin/<slug:key>/version-<int:number>.yaml", views.download, name="download"),
    # Keeping the routine: the versions, the draft's pages, publishing.
    path("rutin/versioner/", editor_views.versions, name="versions"),
    path("rutin/versioner/ny-rutin/", editor_views.new_routine, name="new_routine"),
    path("rutin/versioner/<slug:routine_key>/nytt-utkast/", editor_views.start_draft, name="start_draft"),
    path("rutin/versioner/utkast/<int:version_id>/", editor_views.draft, name="draft"),
    path(
        "rutin/versioner/utkast/<int:version_id>/scenario/<slug:scenario_key>/",
        editor_views.scenario,
        name="scenario",
    ),
    path(
        "rutin/versioner/utkast/<int:version_id>/scenario/<slug:scenario_key>/ta-bort/",
        editor_views.remove_scenario,
        name="remove_scenario",
    ),
    path("rutin/versioner/utkast/<int:version_id>/scenarier/", editor_views.move_scenario, name="move_scenario"),
    path("rutin/versioner/utkast/<int:version_id>/nytt-scenario/", editor_views.new_scenario, name="new_scenario"),
    path("rutin/versioner/utkast/<int:version_id>/triage/", editor_views.triage, name="triage"),
    path("rutin/versioner/utkast/<int:version_id>/meddelanden/", editor_views.notices, name="notices"),
    path("rutin/versioner/utkast/<int:version_id>/publicera/", editor_views.publish, name="publish"),
]
