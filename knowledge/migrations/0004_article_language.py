import re

from django.db import migrations, models

LANGUAGES = [("zh-hans", "Simplified Chinese"), ("zh-hant", "Traditional Chinese"),
             ("en", "English")]

_HAN = re.compile(r"[\u3400-\u9fff]")
# Common characters written differently in the two scripts (these letters only, as they
# were when this migration was written: a migration does not follow later code).
_TRADITIONAL = set("們這與為來時說會處還後發對過經點體門問關開貨換訂單將戶買賣實際從屬產運費錢銀"
                   "請讓轉線擊網頁價聯務態質檢測報護號碼寫鏈結倉儲簽郵聽話語認識無損壞條類處")
_SIMPLIFIED = set("们这与为来时说会处还后发对过经点体门问关开货换订单将户买卖实际从属产运费钱银"
                  "请让转线击网页价联务态质检测报护号码写链结仓储签邮听话语认识无损坏条类处")


def guess_language(text: str) -> str:
    """English without Han characters; Traditional when its own letters outnumber Simplified."""
    if not _HAN.search(text):
        return "en"
    traditional = sum(char in _TRADITIONAL for char in text)
    simplified = sum(char in _SIMPLIFIED for char in text)
    return "zh-hant" if traditional > simplified else "zh-hans"


def backfill(apps, schema_editor):
    """Name the language of the articles written before it was recorded (all said zh-hans)."""
    article_model = apps.get_model("knowledge", "Article")
    history_model = apps.get_model("knowledge", "HistoricalArticle")
    for pk, title, body in article_model.objects.values_list("pk", "title", "body").iterator():
        language = guess_language(f"{title}\n{body}")
        if language != "zh-hans":
            # Not a change anyone made: the old versions get the same language, so the
            # history shows no language change that never happened.
            article_model.objects.filter(pk=pk).update(language=language)
            history_model.objects.filter(id=pk).update(language=language)


class Migration(migrations.Migration):

    dependencies = [
        ("knowledge", "0003_category_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="article",
            name="language",
            field=models.CharField(choices=LANGUAGES, default="zh-hans", max_length=8,
                                   verbose_name="language"),
        ),
        migrations.AddField(
            model_name="historicalarticle",
            name="language",
            field=models.CharField(choices=LANGUAGES, default="zh-hans", max_length=8,
                                   verbose_name="language"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
