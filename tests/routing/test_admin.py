"""Supervisors' admin: rule tables import and export, history pages show diffs, QA only reads."""

import pytest
import tablib
from django.urls import reverse

from routing.admin import RoutingRuleResource
from routing.models import RoutingRule

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("staffed_teams")
def test_routing_rules_export_and_import_back_with_history():
    dataset = RoutingRuleResource().export()
    assert len(dataset) == RoutingRule.objects.count() > 0
    rows = [list(row) for row in dataset]
    keywords = dataset.headers.index("keywords")
    rows[0][keywords] = "爆炸,起火,冒烟"

    result = RoutingRuleResource().import_data(tablib.Dataset(*rows, headers=dataset.headers),
                                               dry_run=False)

    assert not result.has_errors()
    assert not result.has_validation_errors()
    rule = RoutingRule.objects.get(pk=rows[0][dataset.headers.index("id")])
    assert rule.keywords == "爆炸,起火,冒烟"
    assert rule.history.latest().history_change_reason == "import"


def test_a_routing_rule_with_an_unknown_team_changes_nothing():
    dataset = RoutingRuleResource().export()
    rows = [list(row) for row in dataset]
    rows[0][dataset.headers.index("team")] = "no_such_team"
    rows[1][dataset.headers.index("name")] = "改过的名字"
    before = list(RoutingRule.objects.order_by("id").values_list("name", "team"))

    result = RoutingRuleResource().import_data(tablib.Dataset(*rows, headers=dataset.headers),
                                               dry_run=False, raise_errors=False)

    assert result.has_errors() or result.has_validation_errors()
    assert list(RoutingRule.objects.order_by("id").values_list("name", "team")) == before


@pytest.mark.usefixtures("staffed_teams")
def test_the_history_page_of_a_rule_shows_what_changed(client, supervisor):
    rule = RoutingRule.objects.order_by("id").first()
    client.force_login(supervisor)
    change = reverse("admin:routing_routingrule_change", args=[rule.pk])
    page = client.get(change)
    data = {key: value for key, value in page.context["adminform"].form.initial.items()
            if value is not None}
    data.update({"name": "新名称", "categories": rule.categories, "channels": rule.channels,
                 "customer_tiers": rule.customer_tiers})
    if data.get("team") is not None:
        data["team"] = rule.team_id

    client.post(change, data)
    history = client.get(reverse("admin:routing_routingrule_history", args=[rule.pk]))

    content = history.content.decode()
    assert "新名称" in content
    assert "&rarr;" in content
    assert rule.history.latest().history_user == supervisor


@pytest.mark.parametrize("model", ["routing_routingrule", "sla_slapolicy", "routing_agentprofile",
                                   "tickets_team"])
def test_supervisors_search_every_configuration_table(client, supervisor, model):
    client.force_login(supervisor)

    response = client.get(reverse(f"admin:{model}_changelist"), {"q": "x"})

    assert response.status_code == 200
    assert 'id="searchbar"' in response.content.decode()


@pytest.mark.parametrize("url_name", ["admin:routing_routingrule_import",
                                      "admin:sla_slapolicy_import"])
def test_qa_may_not_import_rule_tables(client, qa_inspector, url_name):
    client.force_login(qa_inspector)

    assert client.get(reverse(url_name)).status_code == 403


@pytest.mark.parametrize("url_name", ["admin:routing_routingrule_import",
                                      "admin:sla_slapolicy_import",
                                      "admin:policies_policyrule_export",
                                      "admin:routing_routingrule_export"])
def test_supervisors_open_the_import_and_export_pages(client, supervisor, url_name):
    client.force_login(supervisor)

    assert client.get(reverse(url_name)).status_code == 200
