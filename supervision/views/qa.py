"""QA pages: the review queue and the review form."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from core.services.exceptions import Conflict
from supervision.models.qa import QaSource, QaState
from supervision.selectors import qa as selectors_qa
from supervision.services import qa as qa_services
from tickets import selectors

PAGE_SIZE = 50
SCORE_CHOICES = [(value, str(value)) for value in range(1, 6)]


def _score_field(label):
    return forms.TypedChoiceField(label=label, choices=SCORE_CHOICES, coerce=int,
                                  widget=forms.RadioSelect(attrs={"class": "btn-check"}))


class QaReviewForm(forms.Form):
    attitude = _score_field(gettext_lazy("Attitude"))
    accuracy = _score_field(gettext_lazy("Accuracy"))
    policy_compliance = _score_field(gettext_lazy("Policy compliance"))
    archiving = _score_field(gettext_lazy("Archiving"))
    findings = forms.CharField(label=gettext_lazy("Findings"), required=False, max_length=4000,
                               widget=forms.Textarea(attrs={"rows": 4}))


@permission_required("supervision.view_qareview", raise_exception=True)
def qa_queue(request):
    """List the reviews to do (or done), oldest first."""
    state = request.GET.get("state", QaState.PENDING)
    if state not in QaState.values:
        state = QaState.PENDING
    source = request.GET.get("source", "")
    if source not in QaSource.values:
        source = ""
    reviews = selectors_qa.qa_review_list(user=request.user, state=state, source=source)
    page = Paginator(reviews, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "supervision/qa_queue.html", {
        "page": page, "state": state, "source": source, "states": QaState.choices,
        "sources": QaSource.choices, "nav_active": "qa",
    })


@permission_required("supervision.view_qareview", raise_exception=True)
@require_http_methods(["GET", "POST"])
def qa_review(request, pk: int):
    """Show a review with its ticket's timeline; QA inspectors score it here."""
    review = selectors_qa.qa_review_get(user=request.user, pk=pk)
    can_score = request.user.has_perm("supervision.change_qareview") and (
        review.reviewer_id in (None, request.user.pk))
    initial = {name: getattr(review, name) for name in
               ("attitude", "accuracy", "policy_compliance", "archiving", "findings")}
    form = QaReviewForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not can_score:
            raise PermissionDenied
        if form.is_valid():
            try:
                qa_services.qa_review_submit(review=review, actor=request.user,
                                             **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            except Conflict as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Review saved."))
                return redirect("qa-queue")
    return render(request, "supervision/qa_review.html", {
        "review": review, "ticket": review.ticket, "form": form, "can_score": can_score,
        "on_legal_hold": selectors.is_held(ticket=review.ticket),
        "nav_active": "qa",
    })
