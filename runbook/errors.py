"""The refusal every layer raises and every page, the API and the tasks understand."""

from django.utils.translation import gettext


class ActionRefused(Exception):
    """An action that was not done, with a message for the person who tried.

    ``code`` tells the API how to answer: ``forbidden`` (403), ``conflict`` (409, the state
    does not allow it) or ``invalid`` (400, bad input), ``not_found`` (404).

    Services run in the record language (Swedish), but the reason is read in the reader's:
    ``message`` is worked out when it is read, from a callable where it has placeholders,
    else by looking the Swedish text up in the reader's catalogue.
    """

    def __init__(self, message, code="conflict", field=None):
        self._message = message
        self.code = code
        # The input the refusal is about (``scenario``), when it is one: the API names it.
        self.field = field
        super().__init__(code)

    @property
    def message(self):
        if callable(self._message):
            return str(self._message())
        return gettext(str(self._message))

    def __str__(self):
        return self.message


class NeedsConfirmation(ActionRefused):
    """Not done until the person confirms: ``warnings`` are (key, message) pairs; the same
    call with those keys in ``confirmed`` does it. Nothing is changed before that."""

    def __init__(self, warnings):
        self._warnings = list(warnings)
        super().__init__(lambda: " ".join(m for _k, m in self.warnings), code="invalid")

    @property
    def warnings(self):
        """(key, message) pairs, the messages in the reader's language."""
        return [(key, str(m() if callable(m) else m)) for key, m in self._warnings]

    @property
    def keys(self):
        return [key for key, _m in self._warnings]
