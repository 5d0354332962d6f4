from django.db import migrations, models


def default_contacts(apps, schema_editor):
    """The routine's fixed numbers; names and the rest are filled in by the unit in the admin."""
    Contact = apps.get_model("incidents", "Contact")
    Contact.objects.get_or_create(
        kind="servicedesk",
        name="Servicedesk Region Skåne",
        defaults={"phone": "30 000", "note": "Telefon 30 000 eller ärende i Ritz"},
    )


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_roles_and_timeline_guard")]

    operations = [
        migrations.CreateModel(
            name="Contact",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("systemansvarig", "Systemansvarig (SA)"),
                            ("sa_manager", "Enhetschef för SA"),
                            ("servicedesk", "Servicedesk"),
                            ("vendor", "Systemleverantör"),
                            ("regional_it", "Regionala IT-funktionen (driftinfo)"),
                        ],
                        max_length=20,
                        verbose_name="typ",
                    ),
                ),
                ("name", models.CharField(max_length=200, verbose_name="namn")),
                ("phone", models.CharField(blank=True, max_length=40, verbose_name="telefon")),
                ("email", models.EmailField(blank=True, max_length=254, verbose_name="e-post")),
                ("note", models.CharField(blank=True, max_length=200, verbose_name="anmärkning")),
                ("active", models.BooleanField(default=True, verbose_name="aktiv")),
            ],
            options={"ordering": ["kind", "name"], "verbose_name": "kontakt", "verbose_name_plural": "kontakter"},
        ),
        migrations.RunPython(default_contacts, migrations.RunPython.noop),
    ]
