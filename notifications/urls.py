from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("kvittera/<str:token>/", views.acknowledge_link, name="ack"),
    path("meddelanden/regler/", views.rules_page, name="rules"),
    path("meddelanden/<int:pk>/skicka-om/", views.resend, name="resend"),
    path("stubs/<slug:channel>/", views.stub, name="stub"),
    path("stubs/<slug:channel>/lage/", views.stub_mode, name="stub_mode"),
]
