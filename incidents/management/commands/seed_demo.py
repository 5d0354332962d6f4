"""Demo users, one per role, with passwords made on this machine. Demo mode only."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError

from runbook.scenarios import Role

DEMO_PEOPLE = {
    Role.KUNDSERVICE: ("Karin", "Kundservice"),
    Role.SYSTEMANSVARIG: ("Sam", "Systemansvarig"),
    Role.VERKSAMHETSANSVARIG: ("Vera", "Verksamhetsansvarig"),
    Role.VERKSAMHETSSPECIALIST: ("Ville", "Verksamhetsspecialist"),
    Role.TELEFONIANSVARIG: ("Tove", "Telefoniansvarig"),
}


class Command(BaseCommand):
    help = "Create one demo user per role (DEMO_MODE only) and print their passwords."

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError("Demo users exist only in demo mode (DEMO_MODE=1).")
        path = settings.DATA_DIR / "demo-passwords.txt"
        known = {}
        if path.exists():
            for line in path.read_text().splitlines():
                if ":" in line:
                    user, password = line.split(":", 1)
                    known[user.strip()] = password.strip()
        User = get_user_model()
        for role, (first, last) in DEMO_PEOPLE.items():
            password = known.get(role) or secrets.token_urlsafe(9)
            user, _ = User.objects.get_or_create(username=role, defaults={"first_name": first, "last_name": last})
            if not user.check_password(password):
                # Only when it differs: a changed password revokes the person's API tokens.
                user.set_password(password)
            if not user.email:
                # .invalid is reserved (RFC 2606): the demo's mail goes to the e-mail stub.
                user.email = f"{role}@demo.invalid"
            user.save()
            user.groups.add(Group.objects.get(name=role))
            # The demo shows its stub receivers to everyone signed in (notifications/stubs.py).
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label="notifications", codename="use_stubs")
            )
            known[role] = password
        path.write_text("".join(f"{u}: {p}\n" for u, p in known.items()))
        path.chmod(0o600)
        self.stdout.write("Demoanvändare (endast demoläge; lösenorden finns i .data/demo-passwords.txt):")
        for role in DEMO_PEOPLE:
            self.stdout.write(f"  {role:24} {known[role]}")
        self._demo_contacts()

    def _demo_contacts(self):
        """Made-up contacts so that the incident page and the SA fallback have someone to show.

        Phone numbers from the series PTS keeps for fiction (mobiles 070-174 06 05–99, so that
        SA and the enhetschef get the escalation SMS at the SMS stub; landlines 040-628 04
        00–99); addresses under .invalid, so the demo's fallback mail arrives at the e-mail stub
        and nowhere else.
        """
        from incidents.models import Contact

        # The numbers earlier versions gave SA and the enhetschef: landlines, which take no SMS.
        EARLIER_DEMO_PHONES = {"040-628 04 01", "040-628 04 02"}

        for kind, name, phone, email in (
            (
                Contact.Kind.SYSTEMANSVARIG,
                "Sam Systemansvarig (demo)",
                "070-174 06 05",
                "sam.systemansvarig@demo.invalid",
            ),
            (Contact.Kind.SA_MANAGER, "Elin Enhetschef (demo)", "070-174 06 06", "elin.enhetschef@demo.invalid"),
            (Contact.Kind.VENDOR, "Systemleverantören (demo)", "040-628 04 03", "support@leverantor.demo.invalid"),
        ):
            contact, created = Contact.objects.get_or_create(
                kind=kind, defaults={"name": name, "phone": phone, "email": email, "note": "Demodata"}
            )
            if (
                not created
                and contact.note == "Demodata"
                and (not contact.email or contact.phone in EARLIER_DEMO_PHONES or contact.phone.startswith("040-000"))
            ):
                # Demo contacts made by an earlier version: given demo numbers and addresses.
                contact.name, contact.phone, contact.email = name, phone, email
                contact.save(update_fields=["name", "phone", "email"])
