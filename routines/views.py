"""Rutinen: the routines in force (version, when and by whom published, why), and for
Verksamhetsansvarig and -specialist a version's YAML file to download and a file to upload as
the draft. Parse, call ``portable``/``services``, render."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from runbook.errors import ActionRefused

from . import portable, selectors, services
from .models import RoutineVersion


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Fil (YAML)"),
        help_text=gettext_lazy("En rutin som export ger den. Den blir rutinens utkast; inget publiceras."),
        error_messages={
            "required": gettext_lazy("Välj en fil."),
            "empty": gettext_lazy("Filen är tom."),
            "invalid": gettext_lazy("Välj en fil."),
        },
    )


def _page(request, *, form=None, status=200):
    return render(
        request,
        "routines/routine.html",
        {
            "routines": selectors.routines(),
            "may_edit": services.may_edit(request.user),
            "form": form or ImportForm(),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def routine_page(request):
    """Rutinen: what is in force; an upload (POST) becomes the draft of its routine."""
    if request.method == "GET":
        return _page(request)
    if not services.may_edit(request.user):
        return render(request, "403.html", status=403)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    upload = form.cleaned_data["file"]
    if upload.size > portable.MAX_BYTES:
        form.add_error("file", _("Filen är för stor (högst 1 MB)."))
        return _page(request, form=form, status=400)
    try:
        draft = portable.import_file(request.user, upload.read())
    except ActionRefused as refused:
        if refused.code == "forbidden":
            return render(request, "403.html", status=403)
        form.add_error("file", refused.message)
        return _page(request, form=form, status=400 if refused.code == "invalid" else 409)
    messages.success(
        request,
        _("Filen är inläst som utkast till %(routine)s, version %(number)d. Den gäller först när den publiceras.")
        % {"routine": draft.routine.name, "number": draft.number},
    )
    return redirect("routines:routine")


@require_GET
def download(request, key, number):
    """A version as its YAML file."""
    if not services.may_edit(request.user):
        return render(request, "403.html", status=403)
    version = (
        RoutineVersion.objects.select_related("routine", "published_by").filter(routine__key=key, number=number).first()
    )
    if version is None:
        raise Http404
    response = HttpResponse(portable.export_version(version), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{portable.file_name(version)}"'
    return response
