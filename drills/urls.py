"""The drill pages, under /ovningar/."""

from django.urls import path

from . import views

app_name = "drills"

urlpatterns: list = [
    path("", views.index, name="index"),
]
