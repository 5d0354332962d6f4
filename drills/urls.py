"""The drill pages, under /ovningar/."""

from django.urls import path

from . import inject_views, plan_views, scorecard_views, views

app_name = "drills"

urlpatterns: list = [
    path("", views.index, name="index"),
    path("<int:pk>/resultat/", scorecard_views.scorecard_page, name="scorecard"),
    path("<int:pk>/resultat/anteckningar/", scorecard_views.scorecard_notes, name="scorecard_notes"),
    path("jamfor/", scorecard_views.compare, name="compare"),
    path("<int:pk>/inspel/<slug:kind>/", inject_views.inject, name="inject"),
    path("plan/", plan_views.plan, name="plan"),
]
