"""What every form of the app does with a length limit."""

from django import forms
from django.utils.translation import gettext_lazy as _

# A text longer than its field takes: the form says so and keeps the text as typed.
TOO_LONG = _("Högst %(limit_value)d tecken (texten har %(show_value)d). Korta den och försök igen.")


class LimitsSaidForm(forms.Form):
    """No length limit goes to the browser as ``maxlength``: the browser would cut pasted text
    without a word (a search for the wrong thing, a name cut short); the form refuses it with
    a message and gives the text back as typed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.pop("maxlength", None)
            if getattr(field, "max_length", None):
                field.error_messages["max_length"] = TOO_LONG
