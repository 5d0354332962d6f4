from django.urls import path

from . import contact_views, views

app_name = "incidents"

urlpatterns = [
    path("", views.live, name="live"),
    path("anmal/", views.report, name="report"),
    path("anmal/<slug:routine_key>/", views.report, name="report_routine"),
    path("nodparm.pdf", views.emergency_pack, name="emergency_pack"),
    path("storning/<int:pk>/", views.detail, name="detail"),
    path("storning/<int:pk>/del/<slug:name>/", views.part, name="part"),
    path("storning/<int:pk>/atgard/<slug:name>/", views.transition, name="transition"),
    path("storning/<int:pk>/avbryt-ovning/", views.break_off, name="break_off"),
    path("storning/<int:pk>/prognos/", views.prognosis, name="prognosis"),
    path("storning/<int:pk>/anteckning/", views.note, name="note"),
    path("storning/<int:pk>/samtal/", views.caller_report, name="caller_report"),
    path("storning/<int:pk>/it-kontakt/", views.it_contact, name="it_contact"),
    path("storning/<int:pk>/scenario/", views.reclassify, name="reclassify"),
    path("storning/<int:pk>/uppgift/<int:task_id>/klar/", views.task_done, name="task_done"),
    path("storning/<int:pk>/akut-forskrivning/", views.reserve_order, name="reserve_order"),
    path("storning/<int:pk>/akut-forskrivning/<int:order_id>/inlagd/", views.order_entered, name="order_entered"),
    path("kontakter/", contact_views.contact_list, name="contacts"),
    path("kontakter/<int:contact_id>/ta-bort/", contact_views.contact_remove, name="contact_remove"),
    path("kontakter/arbetstider/", contact_views.duty_add, name="duty_add"),
    path("kontakter/arbetstider/<int:duty_id>/ta-bort/", contact_views.duty_remove, name="duty_remove"),
]
