"""The customer's satisfaction survey: a public page reached through a tokenised link."""

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from core.services.exceptions import Conflict
from shop.selectors import shop_display_name
from supervision.models.survey import Survey
from supervision.services import surveys


def _choices(low, high):
    return [(value, str(value)) for value in range(low, high + 1)]


class SurveyForm(forms.Form):
    csat = forms.TypedChoiceField(label=_("Overall, how satisfied are you?"),
                                  choices=_choices(1, 5), coerce=int, widget=forms.RadioSelect)
    speed = forms.TypedChoiceField(label=_("Speed of the solution"), choices=_choices(1, 5),
                                   coerce=int, widget=forms.RadioSelect)
    attitude = forms.TypedChoiceField(label=_("Attitude of our staff"), choices=_choices(1, 5),
                                      coerce=int, widget=forms.RadioSelect)
    expertise = forms.TypedChoiceField(label=_("Expertise"), choices=_choices(1, 5), coerce=int,
                                       widget=forms.RadioSelect)
    nps = forms.TypedChoiceField(label=_("How likely are you to recommend us to a friend?"),
                                 choices=_choices(0, 10), coerce=int, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Anything else you want to tell us?"), required=False,
                              max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


@login_not_required
@never_cache
def survey(request, token):
    """Show the survey for a valid link and record the one answer it allows."""
    survey_obj = get_object_or_404(Survey.objects.select_related("ticket"), token=token)
    context = {"survey": survey_obj, "ticket_number": survey_obj.ticket.number,
               "shop_name": shop_display_name()}
    if survey_obj.answered_at is not None:
        return render(request, "supervision/survey_done.html", context)
    if survey_obj.is_expired:
        return render(request, "supervision/survey_done.html", {**context, "expired": True},
                      status=410)
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            surveys.survey_answer(survey=survey_obj, **form.cleaned_data)
        except Conflict:
            return render(request, "supervision/survey_done.html", context, status=409)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return render(request, "supervision/survey_done.html", {**context, "thanks": True})
    return render(request, "supervision/survey.html", {**context, "form": form})
