from django.urls import path

from . import views

app_name = "review"

urlpatterns = [
    path("historik/", views.history, name="history"),
    path("historik/historik.csv", views.history_csv, name="history_csv"),
    path("historik/nyckeltal/", views.figures, name="figures"),
    path("historik/nyckeltal.csv", views.figures_csv, name="figures_csv"),
    path("storning/<int:pk>/rapport/", views.incident_report, name="incident_report"),
]
