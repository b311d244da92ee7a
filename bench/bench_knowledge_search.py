"""Benchmark: knowledge-base search over 50,000 synthetic after-sales articles.

Run it alone, from the project root:

    .venv/bin/python bench/bench_knowledge_search.py               # 50,000 articles, PostgreSQL
    .venv/bin/python bench/bench_knowledge_search.py 20000         # fewer articles
    .venv/bin/python bench/bench_knowledge_search.py --sqlite      # the same on a SQLite file
    .venv/bin/python bench/bench_knowledge_search.py --keep        # keep the database

It creates a throwaway database, `kb_bench_<pid>`, on the server of BENCH_PG_SERVER (default
postgres://postgres@127.0.0.1:5432/postgres) (or a SQLite file under bench/results/tmp/),
runs `manage.py migrate`, loads the articles with bulk_create (no tokens), times
`manage.py rebuild_search_index`, and drops the database at the end.

The corpus: a title and a 300-800 character body per article, built from sentence templates
filled with products, issues and remedies (退款, 运费险, 物流延迟, 质量问题 ... appear in most
articles), a few English sentences, and rare *facets* (价格保护, 以旧换新, 冷链, 先行赔付,
refund/refunds/refunded, ...) planted into chosen articles, with controlled overlaps so that
AND and NOT queries have distractors. 15 % of the articles are converted wholesale to
Traditional characters with OpenCC s2t. Traps: articles saying 本订单分三包发出 ("shipped in
three parcels") contain 三包 without being about the 三包 warranty; 物流延迟 and 发货 appear
apart in the background, so only adjacency finds 延迟发货.

Labelled queries: ground truth comes from the planted facets; relevance of a query is its
boolean formula evaluated over each article's facet set. Metric: recall@10 = relevant in the
top 10 / min(10, relevant). Latency: each query is run 5 times warm through
`knowledge.selectors.article_search` (parse, fold, tokenise, the ranked query, fetching the
10 articles with their tags, snippets) and the median kept; the table gives p50/p95/max over
the queries. Common words (退款 matches most of the base) are timed separately, with the
candidate cap (KNOWLEDGE_SEARCH_CANDIDATES) and without it.

Baseline: substring search as a developer would write it with the ORM: `icontains` on title
and body for each term (AND / OR / NOT kept, '*' dropped), newest first, 10 rows.
"""

import argparse
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5

PRODUCTS = ["电饭煲", "洗衣机", "蓝牙音箱", "运动鞋", "羽绒服", "扫地机器人", "电动牙刷", "保温杯",
            "台灯", "行李箱", "婴儿推车", "咖啡机", "空气净化器", "电热水壶", "床上四件套"]
ISSUES = ["质量问题", "外包装破损", "少件", "错发", "无法开机", "异响", "色差", "尺码不合适",
          "物流延迟", "漏液", "做工粗糙", "功能故障"]
REMEDIES = ["退款", "退货退款", "换货", "维修", "优惠券补偿", "运费险理赔", "折价退款", "积分补偿"]
PRODUCTS_EN = ["rice cooker", "washing machine", "speaker", "running shoes", "down jacket"]
ISSUES_EN = ["a quality problem", "a damaged box", "a missing part", "a wrong item"]
REMEDIES_EN = ["return", "exchange", "repair", "coupon"]

TEMPLATES = [
    "用户反馈{p}出现{i}，客服核实后建议{r}。",
    "{p}签收后发现{i}，可申请{r}，运费险可抵扣寄回运费。",
    "售后处理{i}时需先确认订单状态，再向用户说明{r}方案。",
    "如{p}存在{i}，请上传照片凭证，审核通过后安排{r}。",
    "退款一般1-7个工作日到账，{r}完成后会短信通知用户。",
    "物流延迟时先查询轨迹，再联系快递公司核实原因。",
    "订单发货后如需修改地址，请联系在线客服。",
    "{p}的售后政策以商品页说明为准，{r}需在时效内申请。",
    "客服应复述用户问题并确认，避免误解。",
    "用户对{i}不满意时，先安抚情绪，再提供{r}。",
    "仓库签收退货后48小时内完成退款，特殊情况请同步进度。",
    "质量问题导致的退货运费由商家承担，其他原因由用户承担。",
    "售后申请需核对订单信息、售后原因和凭证，再判断是否符合条件。",
    "{p}出现{i}的，优先加急处理，并在工单中记录处理过程。",
    "如用户多次投诉未解决，应升级给投诉处理专员。",
    "The customer reported {ie} with the {pe}; we offered a {re}.",
    "Please confirm the order status before offering a {re}.",
]
TRAP = "本订单分三包发出，请留意三个包裹的物流信息。"

# Rare facets planted into chosen articles (none occurs in the background text).
FACETS = ["价格保护", "以旧换新", "生鲜", "冷链", "保温箱", "发票抬头", "电子发票", "三包", "补发",
          "安装费", "先行赔付", "顺丰", "京东物流", "花呗分期", "屏幕碎裂", "七天无理由", "定制",
          "预售", "延迟发货", "假货", "鉴定", "左耳无声", "refund", "refunds", "refunded",
          "invoice", "AirPods"]
FACET_SENTENCES = [
    "关于{f}：本条说明{p}订单中与{f}有关的规则，请按规定处理。",
    "如涉及{f}，客服需核实后再答复用户。",
    "{f}相关问题请参考本文的处理步骤。",
]
FACET_SENTENCES_EN = ["Note on {f}: see the policy for the {pe}.", "Ask about {f} before you answer."]
# (a, b): articles that hold both, so AND has answers and NOT has distractors.
OVERLAPS = [("生鲜", "冷链"), ("预售", "延迟发货"), ("发票抬头", "电子发票"), ("顺丰", "补发"),
            ("定制", "七天无理由"), ("假货", "鉴定"), ("冷链", "保温箱"), ("invoice", "电子发票")]

# (kind, query); Traditional queries are OpenCC s2t of Simplified ones.
QUERIES = [
    ("keyword", "价格保护"), ("keyword", "以旧换新"), ("keyword", "生鲜"), ("keyword", "冷链"),
    ("keyword", "发票抬头"), ("keyword", "三包"), ("keyword", "补发"), ("keyword", "先行赔付"),
    ("keyword", "顺丰"), ("keyword", "花呗分期"), ("keyword", "invoice"),
    ("and", "生鲜 冷链"), ("and", "预售 延迟发货"), ("and", "发票抬头 电子发票"),
    ("and", "顺丰 补发"), ("and", "定制 七天无理由"),
    ("or", "冷链 OR 保温箱"), ("or", "顺丰 OR 京东物流"), ("or", "假货 OR 鉴定"),
    ("or", "invoice OR 电子发票"),
    ("not", "发票抬头 -电子发票"), ("not", "生鲜 -冷链"), ("not", "顺丰 -补发"),
    ("not", "定制 NOT 七天无理由"),
    ("prefix", "先行赔*"), ("prefix", "refund*"), ("prefix", "以旧换*"), ("prefix", "AirPod*"),
    ("phrase", '"花呗分期"'),
    ("traditional", "價格保護"), ("traditional", "以舊換新"), ("traditional", "發票抬頭 -電子發票"),
    ("traditional", "冷鏈 OR 保溫箱"), ("traditional", "先行賠*"), ("traditional", "預售 延遲發貨"),
]
COMMON = ["退款", "运费险", "退*", "售后 -退款", "质量问题 退货退款", "物流延迟"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("articles", nargs="?", type=int, default=50_000)
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


@contextmanager
def bench_database(*, sqlite: bool, keep: bool):
    name = f"kb_bench_{os.getpid()}"
    if sqlite:
        folder = ROOT / "bench" / "results" / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.sqlite3"
        try:
            yield f"sqlite:///{path}"
        finally:
            if not keep:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    server = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        if keep:
            print(f"Kept the database {name}.")
        else:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"Dropped the database {name}.")


def manage(env: dict, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def setup_django(url: str) -> dict:
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_console.settings")
    return dict(os.environ)


def generate(count: int, rng: random.Random):
    """Return (title, body, facets) triples and the trap ids."""
    import opencc

    s2t = opencc.OpenCC("s2t")
    facet_sets: list[set[str]] = [set() for _ in range(count)]
    for facet in FACETS:
        for index in rng.sample(range(count), rng.randint(20, 40)):
            facet_sets[index].add(facet)
    for a, b in OVERLAPS:
        holders = [i for i, facets in enumerate(facet_sets) if a in facets]
        for index in rng.sample(holders, min(12, len(holders))):
            facet_sets[index].add(b)
    traps = set(rng.sample(range(count), 15))

    rows = []
    for index in range(count):
        product, issue = rng.choice(PRODUCTS), rng.choice(ISSUES)
        sentences = []
        length = rng.randint(300, 800)
        while sum(len(s) for s in sentences) < length:
            sentences.append(rng.choice(TEMPLATES).format(
                p=rng.choice(PRODUCTS), i=rng.choice(ISSUES), r=rng.choice(REMEDIES),
                pe=rng.choice(PRODUCTS_EN), ie=rng.choice(ISSUES_EN), re=rng.choice(REMEDIES_EN)))
        background = "".join(sentences)
        for facet in FACETS:
            assert facet.lower() not in background.lower(), facet
        title = f"{product}{issue}处理说明（{index}）"
        for facet in sorted(facet_sets[index]):
            if facet.isascii():
                sentence = rng.choice(FACET_SENTENCES_EN).format(f=facet, pe=rng.choice(PRODUCTS_EN))
            else:
                sentence = rng.choice(FACET_SENTENCES).format(f=facet, p=product)
            position = rng.randint(0, len(sentences))
            sentences.insert(position, sentence)
            if rng.random() < 0.3:
                title = f"{facet}：{title}"
        if index in traps:
            sentences.insert(rng.randint(0, len(sentences)), TRAP)
        body = "".join(sentences)
        if rng.random() < 0.15:
            title, body = s2t.convert(title), s2t.convert(body)
        rows.append((title, body, facet_sets[index]))
    return rows


def load(rows) -> None:
    from django.contrib.auth import get_user_model

    from knowledge.models import Article, ArticleState

    author = get_user_model().objects.create(username="bench_author")
    batch = []
    for title, body, _facets in rows:
        batch.append(Article(title=title, body=body, author=author,
                             state=ArticleState.PUBLISHED, search_version=0))
        if len(batch) == 2000:
            Article.objects.bulk_create(batch)
            batch = []
    Article.objects.bulk_create(batch)


# --- Ground truth: the query's formula over each article's facets.

def _facet_match(term: str, facets: set[str]) -> bool:
    from knowledge.models.text import fold

    folded = fold(term.strip('"'))
    if folded.endswith("*"):
        stem = folded[:-1]
        return any(fold(f).startswith(stem) for f in facets)
    return fold(folded) in {fold(f) for f in facets}


def relevant(query: str, facets: set[str]) -> bool:
    pieces = query.split()
    clauses: list[list[str]] = []
    excluded: list[str] = []
    negate = join = False
    for piece in pieces:
        if piece == "OR":
            join = True
            continue
        if piece == "NOT":
            negate = True
            continue
        if piece.startswith("-"):
            excluded.append(piece[1:])
        elif negate:
            excluded.append(piece)
        elif join:
            clauses[-1].append(piece)
        else:
            clauses.append([piece])
        negate = join = False
    return (all(any(_facet_match(t, facets) for t in clause) for clause in clauses)
            and not any(_facet_match(t, facets) for t in excluded))


def substring_search(query: str, limit: int = 10) -> list[int]:
    """The baseline: icontains on the raw title and body, as typed (no folding)."""
    from django.db.models import Q

    from knowledge.models import Article, ArticleState

    def term_q(term: str) -> Q:
        term = term.strip('"').rstrip("*")
        return Q(title__icontains=term) | Q(body__icontains=term)

    condition = Q()
    pieces = query.split()
    negate = join = False
    alternatives = None
    for piece in [*pieces, "AND"]:
        if piece == "OR":
            join = True
            continue
        if piece == "NOT":
            negate = True
            continue
        if piece == "AND":
            if alternatives is not None:
                condition &= alternatives
                alternatives = None
            continue
        if piece.startswith("-") or negate:
            condition &= ~term_q(piece.lstrip("-"))
        elif join and alternatives is not None:
            alternatives |= term_q(piece)
        else:
            if alternatives is not None:
                condition &= alternatives
            alternatives = term_q(piece)
        negate = join = False
    return list(Article.objects.filter(condition, state=ArticleState.PUBLISHED)
                .order_by("-id").values_list("id", flat=True)[:limit])


def timed(function, runs: int = RUNS) -> tuple[float, object]:
    timings = []
    result = None
    function()  # warm
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), result


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    with bench_database(sqlite=args.sqlite, keep=args.keep) as url:
        env = setup_django(url)
        migrate_s = manage(env, "migrate", "--no-input")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.db import connection

        from knowledge import selectors
        from knowledge.models import Article

        started = time.perf_counter()
        rows = generate(args.articles, rng)
        generate_s = time.perf_counter() - started
        started = time.perf_counter()
        load(rows)
        load_s = time.perf_counter() - started
        connection.close()
        index_s = manage(env, "rebuild_search_index")
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("VACUUM ANALYZE knowledge_article")
                cursor.execute("SELECT pg_relation_size('kb_article_search_gin'), "
                               "pg_total_relation_size('knowledge_article'), version()")
                gin, table, version = cursor.fetchone()
            else:
                cursor.execute("SELECT sqlite_version()")
                gin, table, version = None, None, "SQLite " + cursor.fetchone()[0]
        ids = list(Article.objects.order_by("id").values_list("id", flat=True))
        facets_by_id = {pk: row[2] for pk, row in zip(ids, rows, strict=True)}
        chars = sum(len(t) + len(b) for t, b, _f in rows)

        reader = get_user_model().objects.create(username="bench_reader", is_superuser=True)

        report = []
        fts_latencies, sub_latencies, fts_recalls, sub_recalls = [], [], [], []
        for kind, query in QUERIES:
            truth = {pk for pk, facets in facets_by_id.items() if relevant(query, facets)}
            assert truth, query
            ms, result = timed(lambda q=query: selectors.article_search(user=reader, q=q,
                                                                        limit=10))
            got = [a.pk for a in result.articles]
            sub_ms, sub_got = timed(lambda q=query: substring_search(q), runs=3)
            denominator = min(10, len(truth))
            recall = len(truth & set(got)) / denominator
            sub_recall = len(truth & set(sub_got)) / denominator
            fts_latencies.append(ms)
            sub_latencies.append(sub_ms)
            fts_recalls.append(recall)
            sub_recalls.append(sub_recall)
            report.append((kind, query, len(truth), recall, ms, sub_recall, sub_ms))

        common = []
        cap = settings.KNOWLEDGE_SEARCH_CANDIDATES
        for query in COMMON:
            capped_ms, _result = timed(lambda q=query: selectors.article_search(
                user=reader, q=q, limit=10))
            settings.KNOWLEDGE_SEARCH_CANDIDATES = 10**9
            uncapped_ms, _result = timed(lambda q=query: selectors.article_search(
                user=reader, q=q, limit=10), runs=3)
            settings.KNOWLEDGE_SEARCH_CANDIDATES = cap
            sub_ms, _ids = timed(lambda q=query: substring_search(q), runs=3)
            common.append((query, capped_ms, uncapped_ms, sub_ms))

        all_fts = fts_latencies + [c[1] for c in common]
        print(f"\n{version}; {args.articles:,} articles, {chars / 1e6:.1f} M characters, seed "
              f"{args.seed}, load average {os.getloadavg()[0]:.2f}")
        print(f"migrate {migrate_s:.1f} s, generate {generate_s:.1f} s, bulk_create "
              f"{load_s:.1f} s, rebuild_search_index {index_s:.1f} s"
              + (f", GIN {gin / 1e6:.1f} MB, table with TOAST and indexes {table / 1e6:.0f} MB"
                 if gin else ""))
        print("\n| kind | query | relevant | R@10 | ms (median of 5) | substring R@10 | "
              "substring ms |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for kind, query, n, recall, ms, sub_recall, sub_ms in report:
            print(f"| {kind} | `{query}` | {n} | {recall:.2f} | {ms:.1f} | {sub_recall:.2f} | "
                  f"{sub_ms:.1f} |")
        print(f"\nLabelled queries: R@10 {statistics.mean(fts_recalls):.3f} (substring "
              f"{statistics.mean(sub_recalls):.3f}); latency p50 "
              f"{percentile(fts_latencies, 0.5):.1f} ms, p95 {percentile(fts_latencies, 0.95):.1f}"
              f" ms, max {max(fts_latencies):.1f} ms (substring p50 "
              f"{percentile(sub_latencies, 0.5):.1f} ms, p95 "
              f"{percentile(sub_latencies, 0.95):.1f} ms)")
        print("\n| common query | matches | capped ms | uncapped ms | substring ms |")
        print("|---|---:|---:|---:|---:|")
        from knowledge.selectors import search

        for query, capped_ms, uncapped_ms, sub_ms in common:
            parsed = search.parse_query(query)
            settings.KNOWLEDGE_SEARCH_CANDIDATES = 10**9
            matches = len(search.search_ids(parsed, search.Filters(states=("published",)),
                                            limit=10**9))
            settings.KNOWLEDGE_SEARCH_CANDIDATES = cap
            print(f"| `{query}` | {matches:,} | {capped_ms:.1f} | {uncapped_ms:.1f} | "
                  f"{sub_ms:.1f} |")
        print(f"\nAll queries, common words included: p50 {percentile(all_fts, 0.5):.1f} ms, "
              f"p95 {percentile(all_fts, 0.95):.1f} ms, max {max(all_fts):.1f} ms "
              f"(candidate cap {cap})")


if __name__ == "__main__":
    main()
