"""Sign-in with the region's identity provider (SITHS behind an OpenID Connect provider).

The authorization-code flow (with PKCE) through Authlib: the provider's metadata and keys are
read from ``OIDC_ISSUER``'s discovery document; the ID token's signature, issuer, audience
(``OIDC_CLIENT_ID``), expiry (with ``OIDC_CLOCK_SKEW_SECONDS`` of leeway) and nonce are
checked by Authlib before anything here reads it.

Who a person is in the app follows from the ID token (or the userinfo answer, for a claim
the ID token leaves out) at every sign-in: their roles are the values of ``OIDC_ROLE_CLAIM``
mapped by ``OIDC_ROLE_MAP``, replacing the groups they had. A person whose claim maps to no
role is refused and keeps no role. Password accounts stay only for the break-glass
administrators named in ``OIDC_BREAK_GLASS_USERS`` (``runbook.auth``): the provider is down
in a full IT outage.
"""

import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .scenarios import Role

# Usernames of people who sign in through the provider: never one a password account can
# have (Django's username validator allows no colon), so nobody at the provider can become
# a local account, the break-glass administrator least of all.
USERNAME_PREFIX = "oidc:"
USERNAME_MAX = 150


class SignInRefused(Exception):
    """The provider vouched for the person, but the app does not let them in."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


NO_ROLE = _(
    "Du är inloggad hos Region Skåne men har ingen roll i Driftstörningsrutin Sesam LMN. "
    "Kontakta Verksamhetsansvarig om du behöver behörighet."
)
DEACTIVATED = _("Ditt konto i Driftstörningsrutin Sesam LMN är avstängt. Kontakta Verksamhetsansvarig.")
NO_SUBJECT = _("Inloggningstjänsten sa inte vem du är. Försök igen eller kontakta IT.")


def enabled():
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID)


def may_use_password(username):
    """With sign-in through the provider on, only the named break-glass administrators use
    the password form; without it, everyone does (the embedded default)."""
    return not enabled() or (username or "") in settings.OIDC_BREAK_GLASS_USERS


_clients = {}


def client():
    """The Authlib client for the configured provider (one per configuration)."""
    key = (settings.OIDC_ISSUER, settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET, settings.OIDC_SCOPES)
    if key not in _clients:
        # Loaded on the first sign-in through the provider: Authlib and the requests library
        # it brings are about 13 MiB in every process that loads the URLs, which most never use.
        from authlib.integrations.django_client import OAuth

        oauth = OAuth()
        _clients[key] = oauth.register(
            "region",
            client_id=settings.OIDC_CLIENT_ID,
            client_secret=settings.OIDC_CLIENT_SECRET,
            server_metadata_url=f"{settings.OIDC_ISSUER.rstrip('/')}/.well-known/openid-configuration",
            client_kwargs={
                "scope": settings.OIDC_SCOPES,
                "code_challenge_method": "S256",
                "timeout": settings.OIDC_TIMEOUT_SECONDS,
            },
        )
    return _clients[key]


def claims_options():
    """What an ID token must say besides its signature and times: the provider's issuer and,
    among its audiences, this app (Authlib alone would let another audience through when the
    token named this app as its authorized party)."""
    return {
        "iss": {"essential": True, "values": [client().load_server_metadata()["issuer"]]},
        "aud": {"essential": True, "values": [settings.OIDC_CLIENT_ID]},
    }


def fetch_token(request):
    """The callback's code exchanged at the provider for tokens, the ID token checked:
    signature (the provider's published keys), issuer, audience, expiry and issue time
    (OIDC_CLOCK_SKEW_SECONDS of leeway), nonce and state. Raises on any failure."""
    return client().authorize_access_token(
        request, claims_options=claims_options(), leeway=settings.OIDC_CLOCK_SKEW_SECONDS
    )


def check_id_token(token, nonce):
    """The checks ``fetch_token`` makes, on a token response got otherwise."""
    return client().parse_id_token(
        token, nonce=nonce, claims_options=claims_options(), leeway=settings.OIDC_CLOCK_SKEW_SECONDS
    )


def claim_values(claims, name):
    """A claim as a list of strings (providers send one role as a string, several as a list)."""
    value = claims.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def roles_for(claims):
    """The app's roles the person's claim values map to (OIDC_ROLE_MAP), in the routine's order."""
    mapped = {
        settings.OIDC_ROLE_MAP[v] for v in claim_values(claims, settings.OIDC_ROLE_CLAIM) if v in settings.OIDC_ROLE_MAP
    }
    return [role for role in Role.ALL if role in mapped]


def username_for(subject):
    name = f"{USERNAME_PREFIX}{subject}"
    if len(name) <= USERNAME_MAX and "\x00" not in name:  # PostgreSQL's text refuses NUL
        return name
    return f"{USERNAME_PREFIX}{hashlib.sha256(subject.encode()).hexdigest()}"


def sign_in(claims):
    """The user the provider's claims make, created or updated, their groups replaced by the
    mapping. Raises ``SignInRefused`` when they map to no role (a person known from before
    then keeps none: what the provider says now counts)."""
    subject = claims.get(settings.OIDC_USERNAME_CLAIM)
    if not subject:
        raise SignInRefused(NO_SUBJECT)
    user, roles = _update(str(subject), claims)
    if not roles:
        raise SignInRefused(NO_ROLE)
    return user


def _text(value, limit):
    """A claim as text the database takes: no NUL characters (PostgreSQL refuses them), at
    most ``limit`` characters."""
    return str(value).replace("\x00", "")[:limit]


@transaction.atomic
def _update(subject, claims):
    roles = roles_for(claims)
    user_model = get_user_model()
    user = user_model.objects.select_for_update().filter(username=username_for(subject)).first()
    if user is None and not roles:
        return None, roles  # nobody to create
    if user is None:
        user = user_model(username=username_for(subject))
        user.set_unusable_password()
    elif not user.is_active:
        raise SignInRefused(DEACTIVATED)
    given, family = claims.get("given_name") or "", claims.get("family_name") or ""
    if not (given or family) and claims.get("name"):
        given, _sep, family = str(claims["name"]).partition(" ")
    user.first_name = _text(given, 150)
    user.last_name = _text(family, 150)
    user.email = _text(claims.get("email") or "", 254)
    user.save()
    user.groups.set(Group.objects.filter(name__in=roles))
    return user, roles
