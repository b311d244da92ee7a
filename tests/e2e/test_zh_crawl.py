"""No English on a Chinese page: every role walks the console in zh-hans on the demo data.

One page per page type per role (the queues, the workspace of tickets in different states
with their audit trail, intake, knowledge base, scripts, dashboard, QA, notifications, the
survey, the policy simulator, the admin's index, one changelist and one change form per
model). Each page's visible text, and the title / placeholder / aria-label attributes, must
hold no Latin word outside ALLOWED_WORDS or the demo data itself (product names, SKUs, order
numbers, what customers wrote, English knowledge articles).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from core.models.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Latin words that belong on a Chinese page. Kept short on purpose, each with its reason.
ALLOWED_WORDS = {
    # Names of things Chinese teams write in Latin letters themselves.
    "SLA", "QA", "API", "VIP", "ID", "SKU", "CSV", "KPI", "NPS", "CSAT", "URL", "FAQ",
    "OK", "PDF", "JPG", "PNG", "SMS", "IP", "L1", "L2", "L3", "App", "APP", "SVIP", "XLSX",
    # Keys on the keyboard, as printed on them.
    "Control", "Ctrl", "Enter", "Esc", "Shift", "Alt", "Tab", "Mac", "Command",
    # Markdown and the search syntax's operators, named as the user types them.
    "Markdown", "OR", "AND", "NOT",
    # Units.
    "kg", "g", "cm", "mm", "ml", "h", "min", "s", "KB", "MB", "GB", "bytes",
    # Marketplaces and payment channels, as the shop's staff write them.
    "Taobao", "Tmall", "JD", "Pinduoduo", "Douyin", "Alipay", "WeChat",
    # The product's own name and Django's admin brand ("Django 管理").
    "Django",
}
# Tokens that are codes or identifiers, not words: priorities, ticket / order numbers,
# SKUs, e-mail addresses, URLs, versions, times.
ALLOWED_PATTERNS = [
    re.compile(r"^P[0-3]$"),
    re.compile(r"^[A-Z]{1,6}[-_]?\d[\w-]*$"),        # TK-2026…, KS2026…, SKU-123, v3
    re.compile(r"^v\d+$"),
    re.compile(r"^(Ctrl|Shift|Alt|Control|Command)(\+(Ctrl|Shift|Alt|Enter|Esc|Tab))+$"),  # keys
    re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$"),   # e-mail addresses
    re.compile(r"^(https?://|www\.)\S+$"),
    re.compile(r"^[A-Z]$"),                        # a single capital (A/B, grades)
    re.compile(r"^[A-Z]{2,6}[-_][A-Z0-9]*\d[A-Z0-9-]*$"),  # SIM-C87F8C…: payment references
]
# Django's own admin strings its zh_Hans catalogue does not translate yet (the app list's
# hidden column headers, the many-to-many selector); not the console's text.
DJANGO_UNTRANSLATED = re.compile(
    r"^(Model name|Add link|Change or view list link)$|"
    r"^(Choose|Remove) (all |selected )?\S+$|"
    r'^(Choose|Remove) \S+ by selecting them and then select the "(Choose|Remove)" arrow button\.$')
# A rule's source cites its document as written (DOMAIN.md's sections are in English); only
# supervisors, QA and risk/legal see it.
RULE_SOURCE = re.compile(r"(^|；)来源：")
# On the admin's pages a code is data: team and skill codes, usernames, JSON conditions,
# masked tokens, password hashes, deduplication keys.
ADMIN_CODE = re.compile(r"^[a-z0-9]+([_.:-][a-z0-9]+)+$|^\S+\*{4,}$|^(md5|pbkdf2_sha256|argon2)$")
JSON_TEXT = re.compile(r"^[\[{].*[\]}]$", re.S)

# Placeholders of the script templates ({customer_name}), shown as the author types them.
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")

WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’._@+/-]*[A-Za-z0-9]|[A-Za-z]")
URL_OR_MAIL = re.compile(r"(https?://\S+|www\.\S+|[\w.+-]+@[\w-]+(\.[\w-]+)+)")

# Read in the browser: visible text nodes and the attributes people (and screen readers)
# meet. Not <script>/<style>, nor what the page hides (closed menus are opened by the
# visit below only where they carry a page of their own).
COLLECT_TEXT = """() => {
  const out = [];
  const visible = (el) => {
    if (!el || el.closest('[hidden], template, script, style, noscript')) return false;
    const style = getComputedStyle(el);
    return style.display !== 'none' && style.visibility !== 'hidden'
      && el.getClientRects().length > 0;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    if (text && visible(node.parentElement) && !node.parentElement.closest('[data-crawl-data]'))
      out.push(text);
  }
  for (const el of document.querySelectorAll('[title], [placeholder], [aria-label]')) {
    if (el.closest('[data-crawl-data]')) continue;
    for (const name of ['title', 'placeholder', 'aria-label'])
      if (el.hasAttribute(name) && el.getAttribute(name).trim())
        out.push(el.getAttribute(name).trim());
  }
  out.push(document.title);
  return out;
}"""


@dataclass
class Crawl:
    base_url: str
    data_words: set[str]
    admin_words: set[str] = field(default_factory=set)
    leaks: dict[str, set[str]] = field(default_factory=dict)
    seen_types: set[str] = field(default_factory=set)

    def check(self, page, where: str) -> None:
        admin = " /admin/" in f" {where.split(' ', 1)[-1]}"
        for text in page.evaluate(COLLECT_TEXT):
            if DJANGO_UNTRANSLATED.match(text) or RULE_SOURCE.search(text):
                continue
            if admin and (JSON_TEXT.match(text) or ADMIN_CODE.match(text)):
                continue
            words = [word for word in foreign_words(text, self.data_words)
                     if not (admin and (ADMIN_CODE.match(word) or word.lower() in self.admin_words))]
            if words:
                self.leaks.setdefault(where, set()).add(f"{text[:120]!r} ({', '.join(words)})")


def foreign_words(text: str, data_words: set[str]) -> list[str]:
    text = PLACEHOLDER.sub(" ", URL_OR_MAIL.sub(" ", text))
    found = []
    for word in WORD.findall(text):
        bare = word.strip("'’._-/")
        if (bare in ALLOWED_WORDS or bare.lower() in data_words
                or any(pattern.match(bare) for pattern in ALLOWED_PATTERNS)
                or _cut_data_word(text, bare, data_words)):
            continue
        found.append(word)
    return found


def _cut_data_word(text: str, word: str, data_words: set[str]) -> bool:
    """A data word an excerpt cut short at its end ("… original packag…")."""
    if not re.search(re.escape(word) + r"\W*$", text):
        return False
    prefix = word.lower()
    return len(prefix) >= 3 and any(known.startswith(prefix) for known in data_words)


def demo_data_words() -> set[str]:
    """Latin words that come from the data, lower-cased: shown as the data has them."""
    from knowledge.models import Article, ScriptTemplate
    from shop.models import Customer, Order, OrderItem
    from tickets.models import Attachment, Message, Ticket

    texts: list[str] = []
    for model, fields in [
        (OrderItem, ["title", "sku"]), (Order, ["number", "carrier", "tracking_number"]),
        (Customer, ["name", "external_id"]),
        (Ticket, ["subject", "number"]), (Message, ["body"]), (Attachment, ["label"]),
        (Article, ["title", "body", "summary"]), (ScriptTemplate, ["title", "body"]),
    ]:
        names = [f.name for f in model._meta.concrete_fields]
        for row in model.objects.values_list(*[f for f in fields if f in names]):
            texts.extend(str(value) for value in row if value)
    return {word.lower().strip("'’._-/") for text in texts for word in WORD.findall(text)}


def admin_data_words() -> set[str]:
    """Latin words of the records the admin lists as they are: the rule table's names,
    sources, English explanations and notes (edited there in English), people's names and usernames, team codes."""
    from django.contrib.auth import get_user_model

    from policies.models import ApprovalLimit, PolicyRule
    from tickets.models import Team

    texts: list[str] = []
    for row in PolicyRule.objects.values_list("name", "source", "explanation_en"):
        texts.extend(row)
    texts.extend(ApprovalLimit.objects.values_list("note", flat=True))
    texts.extend(Team.objects.values_list("code", flat=True))
    for row in get_user_model().objects.values_list("username", "first_name", "last_name"):
        texts.extend(row)
    return {word.lower().strip("'’._-/") for text in texts for word in WORD.findall(text)}


def page_type(url: str) -> str:
    """Where a URL leads, with the ids taken out: one visit per page type."""
    path = urlsplit(url).path
    path = re.sub(r"/\d+/", "/<id>/", path)
    return re.sub(r"/tickets/[A-Z]+[-\d]+/", "/tickets/<number>/", path)


# Links never followed: they change something, leave the console, or serve files.
SKIPPED = re.compile(r"/(logout|read-all|read|claim-next|export|report|api|static|media|"
                     r"favourite|use|rollback|jsi18n|password|delete|history|import|export|attachments/\d+)/|"
                     r"\.(csv|png|pdf)$|"
                     r"/survey/|^/admin/django_q/")


def internal_links(page, base_url: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
    links = []
    for href in hrefs:
        parts = urlsplit(href)
        if not href.startswith(base_url) or SKIPPED.search(parts.path):
            continue
        links.append(f"{base_url}{parts.path}")
    return links


def visit(page, crawl: Crawl, url: str, where: str, *, followed: bool) -> list[str]:
    response = page.goto(url)
    status = response.status if response else 0
    if status >= 400:
        # A ticket of another team refuses the role, as it should; a link the console
        # offered must not.
        if followed:
            crawl.leaks.setdefault(where, set()).add(f"HTTP {status} on a link the page offered")
        return []
    page.wait_for_load_state("load")
    crawl.check(page, where)
    return internal_links(page, crawl.base_url)


def crawl_role(page, crawl: Crawl, username: str, password: str,
               extra_urls: Iterable[str]) -> None:
    page.context.clear_cookies()
    page.goto(f"{crawl.base_url}/accounts/login/")
    crawl.check(page, f"{username} /accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=current-user]")

    visited_types: set[str] = set()
    queue = [f"{crawl.base_url}/", *extra_urls]
    while queue:
        url = queue.pop(0)
        kind = page_type(url)
        explicit = url in extra_urls
        if not explicit and kind in visited_types:
            continue
        # Admin pages read the same for every role that may see them: once per crawl.
        if kind.startswith("/admin/") and kind != "/admin/" and kind in crawl.seen_types:
            continue
        visited_types.add(kind)
        crawl.seen_types.add(kind)
        links = visit(page, crawl, url, f"{username} {urlsplit(url).path}", followed=not explicit)
        queue.extend(link for link in links if page_type(link) not in visited_types)


# Open, waiting on the customer, resolved and closed: the workspace differs in each.
WORKSPACE_STATES = ["in_progress", "pending_customer", "resolved", "closed"]


def workspace_urls(base_url: str) -> list[str]:
    """A ticket per state the demo has, its audit trail, timeline and scripts."""
    from tickets.models import Ticket

    urls = []
    for state in WORKSPACE_STATES:
        ticket = Ticket.objects.filter(state=state).order_by("pk").first()
        if ticket is None:
            continue
        for suffix in ("", "audit/", "customer-history/"):
            urls.append(f"{base_url}/tickets/{ticket.number}/{suffix}")
    return urls


class _LiveApps:
    """The installed models where the migration-era seeding looks in the "tickets" app
    (SLA policies and routing rules have moved to their own apps since)."""

    def __init__(self, apps):
        self.apps = apps

    def get_model(self, app_label: str, name: str):
        for label in (app_label, "sla", "routing"):
            try:
                return self.apps.get_model(label, name)
            except LookupError:
                continue
        raise LookupError(f"{app_label}.{name}")


@pytest.fixture
def demo_data(settings):
    """The shipped rule tables (emptied between browser tests) and the demo data on top."""
    from django.apps import apps

    from policies.services import seeding as policy_seeding
    from tickets.services import seeding as ticket_seeding

    settings.LANGUAGE_CODE = "zh-hans"
    ticket_seeding.install_defaults(_LiveApps(apps))
    policy_seeding.install_defaults(apps)
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_every_page_reads_in_chinese_for_every_role(page, live_server, demo_data):
    from demo.services.people import demo_password

    crawl = Crawl(base_url=live_server.url, data_words=demo_data_words(),
                  admin_words=admin_data_words())
    tickets = workspace_urls(live_server.url)
    survey = survey_url(live_server.url)
    assert survey, "the demo data has a closed ticket to survey"
    page.goto(survey)
    crawl.check(page, "customer /survey/")
    for role in Role:
        extras = tickets
        crawl_role(page, crawl, role.value, demo_password(role.value), extras)

    report = "\n".join(f"{where}:\n  " + "\n  ".join(sorted(texts))
                       for where, texts in sorted(crawl.leaks.items()))
    assert not crawl.leaks, f"English or codes on Chinese pages:\n{report}"


def survey_url(base_url: str) -> str | None:
    """The customer's survey page of a closed demo ticket (the demo sends none itself)."""
    from datetime import timedelta

    from django.utils import timezone

    from supervision.models.survey import Survey
    from tickets.models import Ticket

    closed = Ticket.objects.filter(state="closed").order_by("pk").first()
    if closed is None:
        return None
    survey = Survey.objects.filter(ticket=closed).first() or Survey.objects.create(
        ticket=closed, expires_at=timezone.now() + timedelta(days=7))
    return f"{base_url}/survey/{survey.token}/"
