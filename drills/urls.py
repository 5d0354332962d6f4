"""The drill pages, under /ovningar/."""

app_name = "drills"

urlpatterns: list = []
