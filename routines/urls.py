from django.urls import path

from . import views

app_name = "routines"

urlpatterns = [
    path("rutin/", views.routine_page, name="routine"),
    path("rutin/<slug:key>/version-<int:number>.yaml", views.download, name="download"),
]
