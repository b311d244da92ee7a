import pytest
from rest_framework.test import APIClient

from knowledge.models import Article, ArticleState, ScriptUsage
from tests.factories import CustomerFactory, OrderFactory, TicketFactory

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_search_returns_ranked_hits_with_snippets(agent, make_article):
    make_article(title="退貨運費", body="七天無理由退貨運費由買家承擔。")
    make_article(title="换货", body="质量问题换货免运费。")

    response = _client(agent).get("/api/v1/knowledge/search/", {"q": "退货 运费"})

    assert response.status_code == 200
    (hit,) = response.json()["results"]
    assert hit["title"] == "退貨運費"
    assert "<mark>" in hit["snippet"]
    assert hit["url"] == f"/knowledge/articles/{hit['id']}/"
    assert response.json()["has_more"] is False


def test_search_filters_and_rejects_a_bad_type(agent, make_article):
    make_article(title="退款政策", body="退款规则", article_type="policy")
    make_article(title="退款问答", body="退款规则", article_type="faq")
    client = _client(agent)

    titles = [h["title"] for h in client.get("/api/v1/knowledge/search/",
                                              {"q": "退款", "type": "policy"}).json()["results"]]
    assert titles == ["退款政策"]
    assert client.get("/api/v1/knowledge/search/", {"q": "退款", "type": "poem"}).status_code == 400
    assert client.get("/api/v1/knowledge/search/", {"q": "x", "limit": "ten"}).status_code == 400


def test_search_needs_a_signed_in_user(make_article):
    assert APIClient().get("/api/v1/knowledge/search/", {"q": "退款"}).status_code in {401, 403}


def test_an_agent_creates_and_submits_but_cannot_publish(agent):
    client = _client(agent)

    created = client.post("/api/v1/knowledge/articles/", {
        "title": "发票抬头修改", "body": "开票后**30天**内可修改抬头。", "article_type": "faq",
        "tags": ["发票"]}, format="json")
    assert created.status_code == 201
    pk = created.json()["id"]
    assert created.json()["state"] == "draft"
    assert "<strong>30天</strong>" in created.json()["body_html"]

    submitted = client.post(f"/api/v1/knowledge/articles/{pk}/transitions/", {"name": "submit"})
    published = client.post(f"/api/v1/knowledge/articles/{pk}/transitions/", {"name": "publish"})

    assert submitted.status_code == 200
    assert published.status_code == 403
    assert Article.objects.get(pk=pk).state == ArticleState.IN_REVIEW


def test_qa_publishes_and_a_wrong_state_is_a_conflict(qa_inspector, make_article):
    article = make_article(state=ArticleState.IN_REVIEW)
    client = _client(qa_inspector)

    ok = client.post(f"/api/v1/knowledge/articles/{article.pk}/transitions/",
                     {"name": "publish", "note": "OK"})
    again = client.post(f"/api/v1/knowledge/articles/{article.pk}/transitions/",
                        {"name": "publish"})

    assert ok.status_code == 200
    assert ok.json()["state"] == "published"
    assert again.status_code == 409


def test_updating_someone_elses_draft_is_refused(other_agent, make_article):
    article = make_article(state=ArticleState.DRAFT)

    response = _client(other_agent).put(f"/api/v1/knowledge/articles/{article.pk}/",
                                        {"title": "x", "body": "y"}, format="json")

    assert response.status_code == 404  # another agent's draft is not even visible


def test_qa_updates_a_published_article(qa_inspector, make_article):
    article = make_article()

    response = _client(qa_inspector).put(f"/api/v1/knowledge/articles/{article.pk}/", {
        "title": "新标题", "body": "新正文", "article_type": "policy"}, format="json")

    assert response.status_code == 200
    assert response.json()["version"] == 2


def test_the_script_list_and_rendering_from_a_ticket(agent, make_script):
    template = make_script(title="退款说明", scenario="refund",
                           body="{customer_name}您好，订单{order_number}的退款已提交。—{agent_name}")
    customer = CustomerFactory(name="王先生")
    ticket = TicketFactory(customer=customer, order=OrderFactory(customer=customer,
                                                                 number="SO-88"))
    client = _client(agent)

    listed = client.get("/api/v1/knowledge/scripts/", {"scenario": "refund"})
    rendered = client.post(f"/api/v1/knowledge/scripts/{template.pk}/render/",
                           {"ticket": ticket.number}, format="json")

    assert [t["title"] for t in listed.json()] == ["退款说明"]
    assert rendered.status_code == 200
    assert rendered.json()["text"] == f"王先生您好，订单SO-88的退款已提交。—{agent}"
    assert ScriptUsage.objects.get(user=agent, template=template).count == 1


def test_rendering_refuses_unknown_context_names(agent, make_script):
    template = make_script()

    response = _client(agent).post(f"/api/v1/knowledge/scripts/{template.pk}/render/",
                                   {"context": {"__class__": "x"}}, format="json")

    assert response.status_code == 400


def test_favourites_through_the_api(agent, make_script):
    first = make_script(title="A")
    second = make_script(title="B")
    client = _client(agent)

    assert client.put(f"/api/v1/knowledge/scripts/{second.pk}/favourite/").status_code == 204
    listed = client.get("/api/v1/knowledge/scripts/").json()
    assert [t["title"] for t in listed] == ["B", "A"]
    assert listed[0]["is_favourite"] is True
    assert client.delete(f"/api/v1/knowledge/scripts/{second.pk}/favourite/").status_code == 204
    assert first.favourites.count() == second.favourites.count() == 0


def test_suggestions_for_a_ticket(agent, team, make_article):
    make_article(title="耳机左耳无声", body="耳机左耳没有声音时先重新配对。")
    ticket = TicketFactory(team=team, subject="耳机左耳没有声音")

    response = _client(agent).get("/api/v1/knowledge/suggestions/", {"ticket": ticket.number})

    assert response.status_code == 200
    assert response.json()[0]["title"] == "耳机左耳无声"


def test_the_schema_documents_the_knowledge_endpoints(agent):
    response = _client(agent).get("/api/schema/")

    assert b"/api/v1/knowledge/search/" in response.content
