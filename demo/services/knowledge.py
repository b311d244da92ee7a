"""Demo knowledge base and script templates (话术), in the wording of the source material.

Articles are written by the demo agent and approved by the demo QA inspector through the
services, so each has a real review trail. Anything already there (same title) is left alone.
"""

from django.contrib.auth import get_user_model
from django.db import transaction

from knowledge import services
from knowledge.models import Article, Category, ScriptTemplate, Tag

# (parent, name): the category tree.
CATEGORIES = [
    (None, "售后政策"),
    ("售后政策", "退款"),
    ("售后政策", "退货与换货"),
    ("售后政策", "三包与质量问题"),
    (None, "物流"),
    (None, "投诉与纠纷"),
    (None, "操作指南"),
]

# title, category, type, tags, body (Markdown); in Simplified Chinese unless ARTICLE_LANGUAGES
# says otherwise.
ARTICLES = [
    ("七天无理由退货", "退货与换货", "policy", ["退货", "七天无理由"], """\
签收后 **7 天内** 可申请无理由退货（七天无理由）。

- 商品需保持完好：原包装、吊牌齐全，未使用、无损坏；否则可能折价退款或拒绝退货。
- **不适用**：定制商品、生鲜及易腐商品。商品页会标明；请向用户说明原因，并提供其他方案（如维修、补发、折价退款）。
- 运费：质量问题和物流损毁由商家承担；其他原因由用户承担。

退货包裹需通过平台认证的物流公司寄回，运单号录入后同步物流轨迹。
"""),
    ("退款方式与到账时间", "退款", "faq", ["退款", "到账"], """\
**退款方式**：原路退回、平台余额或优惠券补偿。一般 **1–7 个工作日** 到账。

- 仓库签收退货后 **48 小时内** 完成退款。
- 支付渠道延迟时，每天向用户同步一次进度，并可补偿积分或优惠券。
- 退款失败（银行卡注销、账户冻结、信息不一致）：转人工，通过电话或短信联系用户确认替代方式或身份证明。
"""),
    ("运费由谁承担", "退货与换货", "faq", ["运费", "退货"], """\
| 退货原因 | 运费承担 |
|---|---|
| 商品质量问题 | 商家 |
| 物流损毁 | 商家 |
| 其他原因（如不喜欢、尺码不合适） | 用户 |

有运费险的订单，按运费险规则理赔。
"""),
    ("签收后发现质量问题", "三包与质量问题", "policy", ["质量问题", "三包"], """\
签收后 **72 小时内** 反馈的质量问题有效；超过 72 小时需提供第三方检测报告。

质量纠纷分级处理：轻微瑕疵 → 换货；功能故障 → 退款；存在安全隐患 → 召回，并记录到风险库。
超出法定三包期的争议：说明《产品质量法》关于举证责任的规定，引导用户通过法律途径解决，可酌情给予补偿。
"""),
    ("物流延迟与包裹停滞", "物流", "faq", ["物流", "延迟"], """\
1. 先查询物流轨迹，确认包裹状态。
2. 包裹停滞或丢失：承运商须在 **48 小时内** 答复。
3. 未兑现时效承诺（如次日达）：补偿现金券或积分，并记录承运商表现。
4. 缺货或延迟发货：尽早告知用户，并以优惠券补偿。
"""),
    ("签收时发现包裹破损", "物流", "case", ["物流", "破损"], """\
**案例**：用户收到的电饭煲外箱破损，内胆变形。

处理：请用户签收时拍摄开箱视频；外包装破损可当场拒收。已签收的，凭照片和视频按物流责任判定规则协调快递公司赔偿，
电子产品按维修成本折价。对破损率高的承运商进行考核。
"""),
    ("投诉分级与时限", "投诉与纠纷", "policy", ["投诉", "升级"], """\
- **一级投诉**（基础问题）：一线客服用标准话术处理，**24 小时内** 闭环。
- **二级投诉**（中度纠纷，多次投诉未解决、部分赔偿争议）：转投诉处理专员，**48 小时内** 书面回复。
- **三级投诉**（法律风险、品牌声誉、群体性投诉）：风控与法务介入，**72 小时内** 提交高层审批。

向用户说明处理流程和时限（如“将在2小时内由专员跟进”），避免过度承诺：说“优先加急处理”，不说“绝对保证”。
"""),
    ("售后申请审核要点", "操作指南", "tutorial", ["审核", "凭证"], """\
1. 核对订单信息与售后原因。
2. 查看用户上传的凭证（照片、视频、聊天记录）。
3. 对照售后政策判断是否符合条件，并向用户清晰说明可选方案（退货、换货、维修、补发、折价退款、补偿优惠券）。
4. 确认用户理解并同意方案后再执行，避免后续纠纷。

![退货流程示意](https://static.example.com/kb/return-flow.png)
"""),
    ("退貨退款流程（繁體）", "退款", "tutorial", ["退货", "退款"], """\
用戶在訂單頁提交退貨申請 → 客服審核 → 用戶按指引寄回商品 → 倉庫簽收並質檢 → **48 小時內** 退款。

本文以繁體撰寫，搜尋「退货」或「退貨」都能找到。
"""),
    ("No-reason returns within 7 days", "退货与换货", "policy", ["退货", "returns"], """\
Customers may return an item **within 7 days of sign-off** without giving a reason, as long as it
is intact: original packaging and tags, unused and undamaged.

Custom-made goods and fresh or perishable goods are excluded; explain why and offer another
option. Freight: quality problems and logistics damage are paid by the merchant, other reasons
by the customer.
"""),
    ("When does my refund arrive?", "退款", "faq", ["退款", "refund"], """\
Refunds go back the original way, to the platform balance, or as a coupon, and usually arrive
within **1–7 working days**. After the warehouse signs for a return, the refund is made within
48 hours. If a payment channel is slow, update the customer every day.
"""),
]

ARTICLE_LANGUAGES = {
    "退貨退款流程（繁體）": "zh-hant",
    "No-reason returns within 7 days": "en",
    "When does my refund arrive?": "en",
}

# title, scenario, language, channel, tags, body. Scripts promise only what is already
# decided: a refund is "submitted for review" until it is approved, and when the money
# arrives is said to depend on the bank or payment platform (the seeds' wording).
# The English articles' and scripts' tags, as Chinese pages show them.
TAG_LABELS_ZH = {
    "greeting": "开场白", "empathy": "情绪安抚", "confirm": "确认", "apology": "致歉",
    "escalation": "升级", "refund": "退款", "return": "退货", "returns": "退货",
    "logistics": "物流", "closing": "结束语",
}

SCRIPTS = [
    ("标准问候", "greeting", "zh-hans", "", ["开场白"],
     "您好，这里是{shop_name}客服，请问有什么可以帮您？"),
    ("共情三步：理解-确认-解决", "empathy", "zh-hans", "", ["情绪安抚"],
     "非常抱歉给您带来不便，我非常理解您现在的心情。您的问题是订单{order_number}……对吗？"
     "我这边马上为您处理。"),
    ("复述确认问题", "restate", "zh-hans", "", ["确认"],
     "和您确认一下：您反馈的是订单{order_number}的商品……，需要……，对吗？"),
    ("致歉", "apology", "zh-hans", "", ["致歉"],
     "{customer_name}您好，非常抱歉给您带来不好的体验，这是我们的疏忽。"),
    ("升级与承诺", "escalation", "zh-hans", "", ["投诉", "升级"],
     "您的问题我已经为您优先加急处理，并已转交专员跟进，{deadline}前会给您答复，请您放心。"),
    ("退款说明", "refund", "zh-hans", "", ["退款"],
     "{customer_name}您好，订单{order_number}的退款申请已为您提交，售后专员会尽快完成审核，"
     "{deadline}前给您答复。审核通过后，退款按原支付路径退回，具体到账时间根据银行或第三方支付平台"
     "处理速度而定，到账前我会及时向您同步进展。"),
    ("退货说明", "return", "zh-hans", "", ["退货"],
     "{customer_name}您好，您的退货申请已通过。请在7天内通过平台认证的物流寄回商品，"
     "并保持原包装和吊牌完好，寄出后在订单页填写运单号。仓库签收后48小时内为您退款。"),
    ("物流说明", "logistics", "zh-hans", "", ["物流"],
     "{customer_name}您好，已为您查询订单{order_number}的物流，包裹目前在途。"
     "我已联系快递公司核实，{deadline}前给您回复最新进展。"),
    ("结束语", "closing", "zh-hans", "", ["结束语"],
     "感谢您的耐心等待，请问还有其他可以帮您的吗？祝您生活愉快！客服{agent_name}随时为您服务。"),
    ("Standard greeting", "greeting", "en", "", ["greeting"],
     "Hello, this is {shop_name} customer service. How can I help you?"),
    ("Empathy: understand, confirm, solve", "empathy", "en", "", ["empathy"],
     "I'm very sorry for the trouble, and I understand how you feel. Your problem is with order "
     "{order_number}… is that right? I'll take care of it right away."),
    ("Restate the problem", "restate", "en", "", ["confirm"],
     "Let me confirm: the item in order {order_number} …, and you would like …, is that right?"),
    ("Apology", "apology", "en", "", ["apology"],
     "Dear {customer_name}, I'm very sorry for the poor experience; that was our mistake."),
    ("Escalation promise", "escalation", "en", "", ["escalation"],
     "I have given your case priority handling and passed it to a specialist; you will hear "
     "from us by {deadline}."),
    ("Refund explanation", "refund", "en", "", ["refund"],
     "Dear {customer_name}, I have submitted the refund request for order {order_number}; an "
     "after-sales specialist will review it and you will hear from us by {deadline}. Once it is "
     "approved, the refund goes back the way you paid; when it arrives depends on your bank or "
     "payment platform, and I will keep you updated until it does."),
    ("Return explanation", "return", "en", "", ["return"],
     "Dear {customer_name}, your return is approved. Please send the item back within 7 days "
     "with a certified carrier, in its original packaging with tags, and enter the tracking "
     "number on the order page. We refund within 48 hours of the warehouse signing for it."),
    ("Logistics explanation", "logistics", "en", "", ["logistics"],
     "Dear {customer_name}, I have checked order {order_number}: the parcel is on its way. I have "
     "asked the carrier and will update you by {deadline}."),
    ("Closing", "closing", "en", "", ["closing"],
     "Thank you for your patience. Is there anything else I can help with? {agent_name} from "
     "customer service, at your service."),
]


@transaction.atomic
def load_knowledge() -> dict[str, int]:
    """Create the demo categories, published articles and script templates if missing."""
    users = get_user_model().objects
    author = users.get(username="agent")
    reviewer = users.get(username="qa")
    created = {"articles": 0, "scripts": 0}

    categories: dict[str, Category] = {}
    for parent, name in CATEGORIES:
        categories[name], _new = Category.objects.get_or_create(
            name=name, parent=categories.get(parent) if parent else None)

    for title, category, article_type, tags, body in ARTICLES:
        if Article.objects.filter(title=title).exists():
            continue
        article = services.article_create(actor=author, title=title, body=body,
                                          article_type=article_type,
                                          category=categories[category], tags=tags,
                                          language=ARTICLE_LANGUAGES.get(title, "zh-hans"))
        services.article_submit(article=article, actor=author)
        services.article_publish(article=article, actor=reviewer, note="demo")
        created["articles"] += 1

    for name, label_zh in TAG_LABELS_ZH.items():
        Tag.objects.filter(name=name, label_zh="").update(label_zh=label_zh)

    for title, scenario, language, channel, tags, body in SCRIPTS:
        if ScriptTemplate.objects.filter(title=title, language=language).exists():
            continue
        services.script_template_create(actor=reviewer, title=title, body=body,
                                        scenario=scenario, channel=channel, language=language,
                                        tags=tags)
        created["scripts"] += 1

    draft_title = "以旧换新活动说明（草稿）"
    if not Article.objects.filter(title=draft_title).exists():
        draft = services.article_create(
            actor=author, title=draft_title, article_type="faq",
            category=categories["售后政策"], tags=["以旧换新"],
            body="参加以旧换新：旧机估价后抵扣新机货款。估价以质检结果为准。")
        services.article_submit(article=draft, actor=author)
        created["articles"] += 1
    return created
