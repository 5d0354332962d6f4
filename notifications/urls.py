from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("kvittera/<str:token>/", views.acknowledge_link, name="ack"),
    path("s/<str:token>/", views.acknowledge_sms_link, name="sms_ack"),
    path("sms/inkommande/", views.sms_webhook, name="sms_webhook"),
    path("stubs/sms/svara/", views.stub_sms_reply, name="stub_sms_reply"),
    path("meddelanden/regler/", views.rules_page, name="rules"),
    path("meddelanden/<int:pk>/skicka-om/", views.resend, name="resend"),
    path("stubs/ovning/<slug:channel>/", views.drill_receiver, name="drill_receiver"),
    path("stubs/<slug:channel>/", views.stub, name="stub"),
    path("stubs/<slug:channel>/lage/", views.stub_mode, name="stub_mode"),
]
