import pytest
from django.urls import reverse

from core.models.roles import Role
from tests.factories import PASSWORD


@pytest.mark.django_db
def test_anonymous_user_is_sent_to_log_in(client):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_login_page_renders_for_anonymous_users(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_every_role_logs_in_and_sees_its_home_page(client, personas, role):
    user = personas[role]

    response = client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD}, follow=True
    )

    assert response.status_code == 200
    assert response.context["user"] == user
    page = response.content.decode()
    assert f'data-role="{role.value}"' in page
    assert f'data-panel="{role.value}"' in page


@pytest.mark.django_db
def test_wrong_password_is_refused_with_a_message(client, agent):
    response = client.post(reverse("login"), {"username": agent.username, "password": "nope"})

    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    assert response.context["form"].non_field_errors()


@pytest.mark.django_db
def test_navigation_shows_administration_only_to_staff(client, agent, supervisor):
    client.force_login(agent)
    assert 'data-nav="admin"' not in client.get(reverse("home")).content.decode()

    client.force_login(supervisor)
    assert 'data-nav="admin"' in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_log_out_ends_the_session(client, agent):
    client.force_login(agent)

    client.post(reverse("logout"))

    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_language_switcher_changes_the_page_language(client, agent):
    client.force_login(agent)

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = client.get(reverse("home")).content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    chinese = client.get(reverse("home")).content.decode()

    assert "Log out" in english
    assert "退出登录" in chinese


@pytest.mark.django_db
def test_language_can_be_switched_before_logging_in(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})

    assert response.status_code == 302
    assert "Log in" in client.get(reverse("login")).content.decode()


@pytest.mark.django_db
def test_supervisor_can_browse_shop_data_in_admin(client, supervisor):
    client.force_login(supervisor)

    for name in ["shop_customer", "shop_order", "shop_orderitem", "tickets_team"]:
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200


@pytest.mark.django_db
def test_agent_cannot_open_admin(client, agent):
    client.force_login(agent)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302


@pytest.mark.django_db
def test_the_console_speaks_chinese_by_default(client):
    page = client.get(reverse("login")).content.decode()

    assert "登录" in page
    assert 'lang="zh-hans"' in page


@pytest.mark.django_db
def test_home_shows_an_agent_their_open_and_unassigned_work(client, agent, make_ticket):
    make_ticket("in_progress")
    make_ticket("new")
    make_ticket("new")
    client.force_login(agent)

    panel = dict(client.get(reverse("home")).context["panels"][0].figures)

    assert list(panel.values()) == [1, 2]
