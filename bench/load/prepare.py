"""Prepare a database for the load test: the load agents, the channel account, the orders.

Run it from the project root with the console's environment (DATABASE_URL pointing at the
primary), after `migrate` and `seed_demo --tickets N` (the bulk loader makes the customers,
orders and team queues the agents work):

    .venv/bin/python bench/load/prepare.py --out bench/load/out/run1 --agents 40

It creates (or finds) the agents `load_agent_01`... with the agent role, every team but
risk/legal and an agent profile of capacity 0, so routing gives them nothing and they take
their work with "claim next", as the load test wants; the channel integration `load_channel`
and its API token; and it picks recently paid orders for intake. Everything the locustfile
needs goes into OUT/setup.json (passwords and the token included: keep OUT private).
"""

import argparse
import json
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOAD_TEAMS = ["after_sales", "logistics", "payment", "quality", "complaints", "vip_desk"]
CHANNEL_ACCOUNT = "load_channel"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for setup.json")
    parser.add_argument("--agents", type=int, default=40, help="load agents to have")
    parser.add_argument("--orders", type=int, default=100,
                        help="the most recently paid orders (with a paid item) intake names")
    parser.add_argument("--supervisor", default="supervisor",
                        help="the supervisor the dashboard users log in as (a demo user)")
    parser.add_argument("--supervisor-password", default="supervisor-demo")
    return parser.parse_args()


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_console.settings")
    import django

    django.setup()


def load_agents(count: int) -> list[dict]:
    """Create the missing load agents; return every one's username and password."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from core.models.roles import Role
    from demo.services.people import skills_for
    from routing.models import AgentProfile
    from tickets.models import Team

    users = get_user_model().objects
    teams = list(Team.objects.filter(code__in=LOAD_TEAMS))
    group = Group.objects.get(name=Role.AGENT)
    agents = []
    for index in range(1, count + 1):
        username = f"load_agent_{index:02d}"
        password = f"{username}-load"
        user = users.filter(username=username).first()
        if user is None:
            user = users.create_user(username=username, password=password,
                                     first_name=f"{index:02d}", last_name="压测")
            user.groups.add(group)
        for team in teams:
            team.members.add(user)
        # Capacity 0: routing never hands them a ticket; they claim from the team queues.
        AgentProfile.objects.update_or_create(
            user=user, defaults={"skills": skills_for([t.code for t in teams]), "capacity": 0,
                                 "is_available": True})
        agents.append({"username": username, "password": password})
    return agents


def channel_token() -> tuple[str, int]:
    from core.models.roles import Integration
    from core.services.accounts import integration_account, integration_token

    user = integration_account(username=CHANNEL_ACCOUNT, integration=Integration.CHANNEL)
    return integration_token(user, rotate=False), user.pk


def intake_targets(limit: int) -> list[dict]:
    """Return customers with an order and a paid item of it: what intake names.

    The most recently paid orders: the policy still offers refunds and returns on those, so
    the agents propose, the gateway pays and several tickets on one order compete for its
    money, which is what the refund invariant is about.
    """
    from shop.models import OrderItem

    rows = (OrderItem.objects.filter(paid_amount__gt=0, order__paid_amount__gt=0,
                                     order__paid_at__isnull=False)
            .order_by("-order__paid_at", "-order_id")
            .values_list("order__customer__external_id", "order__customer__name",
                         "order__number", "sku")[: limit * 3])
    seen, targets = set(), []
    for external_id, name, number, sku in rows:
        if number in seen:
            continue
        seen.add(number)
        targets.append({"external_id": external_id, "name": name, "order_number": number,
                        "sku": sku})
        if len(targets) >= limit:
            break
    return targets


def main() -> None:
    args = parse_args()
    setup_django()
    from django.db import transaction

    with transaction.atomic():
        agents = load_agents(args.agents)
        token, channel_id = channel_token()
    targets = intake_targets(args.orders)
    if not targets:
        raise SystemExit("No order with a paid item: run `manage.py seed_demo --tickets N` first.")
    args.out.mkdir(parents=True, exist_ok=True)
    setup = {
        "run_id": secrets.token_hex(4),
        "agents": agents,
        "supervisor": {"username": args.supervisor, "password": args.supervisor_password},
        "channel": {"username": CHANNEL_ACCOUNT, "user_id": channel_id, "token": token},
        "targets": targets,
    }
    path = args.out / "setup.json"
    path.write_text(json.dumps(setup, ensure_ascii=False, indent=1))
    path.chmod(0o600)
    print(f"{len(agents)} load agents, {len(targets)} orders for intake; wrote {path}.")


if __name__ == "__main__":
    main()
