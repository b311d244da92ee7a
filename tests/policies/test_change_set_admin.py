"""The supervisor's admin flow (issue 16, point 1): live rows read-only, edit → preview → submit.

A second person approves on the change set's page, which shows the diff and the backtest.
"""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.forms.models import model_to_dict
from django.urls import NoReverseMatch, reverse

from core.models.roles import Role
from policies.models import (
    LIST_CHOICES,
    ApprovalLimit,
    ChangeSetState,
    PolicyChangeSet,
    PolicyRule,
)
from policies.services import changesets
from tests.factories import UserFactory
from tests.policies.test_change_sets import deciding_rule, lower_threshold

pytestmark = pytest.mark.django_db
CS = ChangeSetState


def rule_form_data(rule: PolicyRule, **changes) -> dict:
    data = {key: value for key, value in model_to_dict(rule).items() if value is not None}
    for name in LIST_CHOICES:
        data[name] = list(getattr(rule, name))
    data.pop("id", None)
    data.update(changes)
    return data


def page_url(change_set) -> str:
    return reverse("admin:policies_policychangeset_change", args=[change_set.pk])


# --- live rows cannot be edited ------------------------------------------------------------------

def test_the_issue_s_limit_raise_by_one_supervisor_is_refused(client, supervisor):
    limit = ApprovalLimit.objects.get(role=Role.SUPERVISOR)
    client.force_login(supervisor)

    response = client.post(reverse("admin:policies_approvallimit_change", args=[limit.pk]),
                           {"role": "supervisor", "max_amount": "99999999", "note": ""})

    assert response.status_code == 403
    limit.refresh_from_db()
    assert limit.max_amount == Decimal("20000")


@pytest.mark.parametrize("who", ["supervisor", "superuser"])
def test_a_live_rule_is_read_only_in_admin_even_for_a_superuser(client, supervisor, who):
    user = supervisor if who == "supervisor" else UserFactory(
        username="root", is_staff=True, is_superuser=True)
    rule = deciding_rule()
    client.force_login(user)
    url = reverse("admin:policies_policyrule_change", args=[rule.pk])

    page = client.get(url)
    posted = client.post(url, rule_form_data(rule, max_item_amount="50.00"))

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert reverse("admin:policies_policyrule_propose", args=[rule.pk]) in page.content.decode()
    assert posted.status_code == 403
    assert client.get(reverse("admin:policies_policyrule_add")).status_code == 403
    assert client.get(reverse("admin:policies_policyrule_delete", args=[rule.pk])).status_code == 403
    rule.refresh_from_db()
    assert rule.max_item_amount != Decimal("50.00")


def test_the_rule_table_can_be_exported_but_no_longer_imported(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("admin:policies_policyrule_export")).status_code == 200
    with pytest.raises(NoReverseMatch):
        reverse("admin:policies_policyrule_import")
    with pytest.raises(NoReverseMatch):
        reverse("admin:policies_approvallimit_import")


def test_the_limit_list_has_no_editable_column(client, supervisor):
    client.force_login(supervisor)
    page = client.get(reverse("admin:policies_approvallimit_changelist")).content.decode()
    assert 'name="form-0-max_amount"' not in page


# --- edit, preview, submit -----------------------------------------------------------------------

def test_a_supervisor_edits_previews_and_submits_a_rule_change(client, supervisor):
    rule = deciding_rule()
    client.force_login(supervisor)
    url = reverse("admin:policies_policyrule_propose", args=[rule.pk])
    data = rule_form_data(rule, max_item_amount="50.00")

    assert client.get(url).status_code == 200
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.status_code == 200
    assert [label for label, _before, _after in preview.context["preview"]] == [
        str(PolicyRule._meta.get_field("max_item_amount").verbose_name)]
    assert not PolicyChangeSet.objects.exists()  # a preview drafts nothing

    confirmed = client.post(url, {**data, "_confirm": "1"})

    change_set = PolicyChangeSet.objects.get(author=supervisor)
    assert confirmed.status_code == 302
    assert confirmed["Location"] == page_url(change_set)
    assert change_set.state == CS.DRAFT
    assert change_set.items.get().after["max_item_amount"] == "50.00"
    rule.refresh_from_db()
    assert rule.max_item_amount != Decimal("50.00")  # nothing live yet

    submitted = client.post(page_url(change_set), {"action": "submit", "title": "秒退 50"})
    assert submitted.status_code == 302
    change_set.refresh_from_db()
    assert change_set.state == CS.SUBMITTED
    assert change_set.title == "秒退 50"


def test_an_invalid_proposal_shows_the_form_errors_and_drafts_nothing(client, supervisor):
    rule = deciding_rule()
    client.force_login(supervisor)
    response = client.post(reverse("admin:policies_policyrule_propose", args=[rule.pk]),
                           {**rule_form_data(rule, refund_percent="150"), "_confirm": "1"})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not PolicyChangeSet.objects.exists()


def test_a_new_rule_and_a_limit_change_are_proposed_the_same_way(client, supervisor):
    rule = deciding_rule()
    limit = ApprovalLimit.objects.get(role=Role.SENIOR_AGENT)
    client.force_login(supervisor)

    client.post(reverse("admin:policies_policyrule_propose_new"),
                {**rule_form_data(rule, name="Trial", is_active=False), "_confirm": "1"})
    client.post(reverse("admin:policies_approvallimit_propose", args=[limit.pk]),
                {"max_amount": "3000.00", "note": "peak season", "_confirm": "1"})

    draft = PolicyChangeSet.objects.get(author=supervisor, state=CS.DRAFT)
    assert sorted(draft.items.values_list("action", flat=True)) == ["create_rule",
                                                                    "update_limit"]


def test_deactivation_is_proposed_from_the_rule_list(client, supervisor):
    rule = deciding_rule()
    client.force_login(supervisor)
    client.post(reverse("admin:policies_policyrule_changelist"),
                {"action": "propose_deactivation", "_selected_action": [rule.pk]})

    rule.refresh_from_db()
    assert rule.is_active
    item = PolicyChangeSet.objects.get(author=supervisor).items.get()
    assert item.action == "deactivate_rule"


def test_qa_may_not_propose(client, qa_inspector):
    client.force_login(qa_inspector)
    rule = deciding_rule()
    response = client.post(reverse("admin:policies_policyrule_propose", args=[rule.pk]),
                           {**rule_form_data(rule, max_item_amount="50.00"), "_confirm": "1"})
    assert response.status_code == 403


# --- the approval page ---------------------------------------------------------------------------

@pytest.fixture
def submitted(supervisor):
    rule = deciding_rule()
    item = lower_threshold(supervisor, rule)
    return changesets.submit(actor=supervisor, change_set=item.change_set)


def test_the_approver_sees_the_diff_and_the_backtest_and_approves(
        client, submitted, other_supervisor, django_assert_max_num_queries):
    client.force_login(other_supervisor)

    with django_assert_max_num_queries(20):
        page = client.get(page_url(submitted))

    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-field="max_item_amount"' in text
    assert 'id="changeset-backtest"' in text
    assert 'value="approve"' in text
    assert page.context["backtest"].days == 90

    response = client.post(page_url(submitted), {"action": "approve"})

    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == CS.PUBLISHED


def test_the_approval_page_costs_the_same_queries_with_more_changes(
        client, supervisor, other_supervisor, django_assert_max_num_queries):
    rules = list(PolicyRule.objects.order_by("id")[:6])
    for rule in rules:
        changesets.propose_rule(actor=supervisor, rule=rule,
                                values={**changesets.values_of(rule), "source": "edited"})
    draft = PolicyChangeSet.objects.get(author=supervisor)
    changesets.submit(actor=supervisor, change_set=draft)
    client.force_login(other_supervisor)

    with django_assert_max_num_queries(20):
        page = client.get(page_url(draft), {"days": "30"})

    assert page.status_code == 200
    assert page.context["backtest"].days == 30
    assert len(page.context["items"]) == len(rules)


def test_the_author_and_qa_see_no_approve_button_and_cannot_approve(
        client, submitted, supervisor, qa_inspector):
    for user in (supervisor, qa_inspector):
        client.force_login(user)
        page = client.get(page_url(submitted))
        assert page.status_code == 200
        assert 'value="approve"' not in page.content.decode()
        client.post(page_url(submitted), {"action": "approve"})
        submitted.refresh_from_db()
        assert submitted.state == CS.SUBMITTED


def test_an_approver_rejects_with_a_reason(client, submitted, risk_officer):
    client.force_login(risk_officer)
    client.post(page_url(submitted), {"action": "reject", "reason": "needs data"})
    submitted.refresh_from_db()
    assert submitted.state == CS.REJECTED
    assert submitted.rejection_reason == "needs data"


def test_a_published_set_is_rolled_back_from_its_page(client, submitted, supervisor,
                                                      other_supervisor):
    changesets.approve(actor=other_supervisor, change_set=submitted)
    client.force_login(supervisor)

    response = client.post(page_url(submitted), {"action": "rollback"})

    rollback = PolicyChangeSet.objects.get(rollback_of=submitted)
    assert response["Location"] == page_url(rollback)
    assert rollback.state == CS.SUBMITTED


def test_people_without_the_view_permission_do_not_see_change_sets(client, submitted):
    agent = UserFactory(username="agent_x", is_staff=True)
    agent.groups.add(Group.objects.get(name=Role.AGENT))
    client.force_login(agent)
    assert client.get(page_url(submitted)).status_code == 403
