"""Demo tickets in every state, with timelines in the words of the source material.

Each one is made through the services, exactly as agents would make it, so its audit trail
is real. A scenario is skipped when its ticket already exists.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from core.models.roles import Integration
from core.models.user import User
from core.services.accounts import DEMO_CHANNEL_USERNAME, integration_account
from resolutions import services as resolution_services
from resolutions.models import Resolution
from shop.models import Customer, Order
from tickets import services
from tickets.models import (
    CancelReason,
    Category,
    Channel,
    Collaborator,
    ComplaintLevel,
    ItemCondition,
    MessageKind,
    Priority,
    RequestedResolution,
    RequestReason,
    Team,
    Ticket,
    TicketType,
)


@dataclass
class Scenario:
    customer: str
    subject: str
    description: str
    channel: str
    team: str
    ticket_type: str
    category: str
    hours_ago: float
    order: str = ""
    priority: int = Priority.P2
    request: tuple[str, str, str] = ("", "", "")  # reason, item condition, wish
    assignee: str = ""
    # Steps after creation: ("reply"|"note"|"inbound", text), ("transition", name, params),
    # ("escalate", level, reason), ("priority", value, reason).
    steps: list[tuple] = field(default_factory=list)


# A 1×1 PNG: enough for the evidence checks, which read the file's bytes.
DEMO_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f80f00000101000518d84e0000000049454e44ae426082"
)

GREETING = "您好，这里是售后客服，请问有什么可以帮您？"

SCENARIOS = [
    Scenario(
        "JD40002", "沙发付款三天了还没有发货", "下单时说五天内发货，现在物流一直没有信息，请帮忙催一下。",
        Channel.ONLINE_CHAT, "after_sales", TicketType.LOGISTICS, Category.ORDER_LATE, 1.5,
        order="JD202611210008",
    ),
    Scenario(
        "KS10001", "冰箱送到时外包装破损", "快递送来时外箱有明显压痕，冰箱侧面有凹陷，已拍照，当场没有拒收。",
        Channel.APP, "logistics", TicketType.AFTER_SALES, Category.QUALITY_DAMAGE, 0.5,
        order="KS202611200013", priority=Priority.P1,
        request=(RequestReason.LOGISTICS_DAMAGE, ItemCondition.DAMAGED, RequestedResolution.EXCHANGE),
    ),
    Scenario(
        "TB20002", "手机物流三天没有更新", "顺丰显示在中转场滞留，承诺48小时送达，已经超时。",
        Channel.PHONE, "logistics", TicketType.LOGISTICS, Category.LOGISTICS_EXCEPTION, 3,
        order="TB202611190004", priority=Priority.P1, assignee="agent",
        steps=[("transition", "assign", {})],
    ),
    Scenario(
        "KS10001", "收到的耳机左耳没有声音", "耳机左耳没有声音，已经重新配对、恢复出厂设置，仍然无效。",
        Channel.ONLINE_CHAT, "after_sales", TicketType.AFTER_SALES, Category.QUALITY_MALFUNCTION, 5,
        order="KS202611150001",
        request=(RequestReason.QUALITY_DEFECT, ItemCondition.OPENED, RequestedResolution.EXCHANGE),
        assignee="agent",
        steps=[
            ("transition", "assign", {}),
            ("reply", GREETING + "非常抱歉给您带来不便，您反馈的是耳机左耳无声，对吗？"),
            ("inbound", "对的，右耳正常。"),
            ("attach", "photo", "左耳无声.png"),
            ("note", "签收后第4天反馈，超过72小时且没有检测报告，按规则需高级客服审批。"),
            ("propose", "return_refund"),
            ("resolution", "accept", {"note": "客户同意退货退款，等待审批"}),
        ],
    ),
    Scenario(
        "TM30001", "车厘子收到时有烂果", "打开礼盒发现有十几颗已经软烂出水，要求退款。",
        Channel.APP, "quality", TicketType.AFTER_SALES, Category.QUALITY_DAMAGE, 20,
        order="TM202611200005",
        request=(RequestReason.QUALITY_DEFECT, ItemCondition.DAMAGED, RequestedResolution.PARTIAL_REFUND),
        assignee="senior_agent",
        steps=[
            ("transition", "assign", {}),
            ("reply", "非常理解您的心情，请您拍摄烂果和外包装的照片上传，我们会优先加急处理。"),
            ("transition", "wait_for_customer", {"comment": "等待客户上传照片"}),
        ],
    ),
    Scenario(
        "KS10002", "空调安装后不制冷", "师傅安装完成后开了两个小时，出风一直是常温。",
        Channel.PHONE, "quality", TicketType.TECHNICAL_FAULT, Category.QUALITY_MALFUNCTION, 30,
        order="KS202611180002", priority=Priority.P1, assignee="senior_agent",
        request=(RequestReason.QUALITY_DEFECT, ItemCondition.USED, RequestedResolution.REPAIR),
        steps=[
            ("transition", "assign", {}),
            ("reply", "请问故障发生时面板上是否有错误提示？我们会在24小时内安排技术人员联系您。"),
            ("inbound", "面板显示 E4。"),
            ("transition", "wait_for_internal",
             {"waiting_on": Collaborator.TECH, "comment": "E4 代码转技术组判断是否缺氟"}),
        ],
    ),
    Scenario(
        "TB20001", "申请七天无理由退货", "连衣裙尺码偏小，吊牌和包装都在，想退货退款。",
        Channel.MINI_PROGRAM, "after_sales", TicketType.AFTER_SALES, Category.RETURN_EXCHANGE, 50,
        order="TB202611100003",
        request=(RequestReason.NO_REASON, ItemCondition.INTACT, RequestedResolution.RETURN_REFUND),
        assignee="agent",
        steps=[
            ("transition", "assign", {}),
            ("reply", "您好，商品在签收后7天内且吊牌完好，可以无理由退货，退货运费由您承担。"),
            ("propose", "return_refund"),
            ("resolution", "accept", {"note": "客户同意退货退款"}),
            ("inbound", "好的，已经寄出，运单号 YT6620077120。"),
            ("resolution", "record_return", {"carrier": "圆通速递", "tracking_number": "YT6620077120"}),
            ("resolution", "receive_return", {"note": "仓库验收：吊牌完好"}),
            ("resolution", "execute", {}),
            ("transition", "resolve",
             {"summary": "仓库已验收，退款已原路退回。"}),
        ],
    ),
    Scenario(
        "KS10003", "纸尿裤发错尺码", "下单的是L码，收到的是M码。",
        Channel.ONLINE_CHAT, "after_sales", TicketType.AFTER_SALES, Category.WRONG_OR_MISSING_ITEM, 120,
        order="KS202611120009",
        request=(RequestReason.WRONG_ITEM, ItemCondition.INTACT, RequestedResolution.EXCHANGE),
        assignee="agent",
        steps=[
            ("transition", "assign", {}),
            ("reply", "非常抱歉给您发错了尺码，我们已为您补发L码，错发的商品无需寄回。"),
            ("transition", "resolve", {"summary": "补发L码，运单号 ZT7712099810。"}),
            ("transition", "close", {"comment": "客户确认收到"}),
        ],
    ),
    Scenario(
        "TM30002", "定制对戒想退货", "刻字对戒收到后觉得款式不喜欢，想七天无理由退货。",
        Channel.ONLINE_CHAT, "after_sales", TicketType.AFTER_SALES, Category.RETURN_EXCHANGE, 96,
        order="TM202611080006",
        request=(RequestReason.NO_REASON, ItemCondition.INTACT, RequestedResolution.RETURN_REFUND),
        assignee="agent",
        steps=[
            ("transition", "assign", {}),
            ("reply", "您好，定制刻字商品不适用七天无理由退货，商品页面已有标注。"
                      "如果存在质量问题，我们会为您免费维修或换货。"),
            ("inbound", "明白了，那就不退了。"),
            ("transition", "resolve", {"summary": "已解释定制商品不支持无理由退货，客户接受。"}),
            ("transition", "close", {}),
        ],
    ),
    Scenario(
        "TB20003", "视频会员兑换码提示无效", "输入兑换码提示无效，是不是已经被别人用了？",
        Channel.WEB_FORM, "after_sales", TicketType.CONSULTATION, Category.COUPON, 70,
        order="TB202611160010", assignee="agent",
        steps=[
            ("transition", "assign", {}),
            ("reply", "请您确认是否在会员官网的兑换页面输入，注意区分字母O和数字0。"),
            ("inbound", "找到原因了，是输错了，已经兑换成功，谢谢。"),
            ("transition", "cancel", {"reason": CancelReason.WITHDRAWN, "comment": "客户自行解决"}),
        ],
    ),
    Scenario(
        "TM30003", "笔记本显示已送达但没有收到", "物流显示已送达，但家里和快递柜都没有，已经第三次联系客服了。",
        Channel.PHONE, "logistics", TicketType.COMPLAINT, Category.ORDER_NOT_RECEIVED, 40,
        order="TM202611140011", priority=Priority.P1, assignee="agent",
        request=(RequestReason.PARCEL_LOST, "", RequestedResolution.REFUND_ONLY),
        steps=[
            ("transition", "assign", {}),
            ("reply", "非常理解您的心情，我们已联系京东物流核实，要求48小时内反馈。"),
            ("escalate", ComplaintLevel.L2, "客户第三次来电，多次投诉未解决，要求赔偿"),
        ],
    ),
    Scenario(
        "KS10002", "空调插头发烫冒烟", "使用时插头处发烫，闻到焦味，看到有烟，已经断电。",
        Channel.PHONE, "quality", TicketType.COMPLAINT, Category.SAFETY_HAZARD, 2,
        order="KS202611180002", priority=Priority.P0, assignee="senior_agent",
        request=(RequestReason.SAFETY_HAZARD, ItemCondition.USED, RequestedResolution.RETURN_REFUND),
        steps=[
            ("transition", "assign", {}),
            ("reply", "请您保持断电，不要再使用。我们会优先加急处理，安排专人上门检测。"),
            ("escalate", ComplaintLevel.L3, "安全隐患，可能涉及批次质量问题，转风控法务"),
        ],
    ),
]

# A second request about the earphones, merged into the first as a duplicate.
DUPLICATE = Scenario(
    "KS10001", "耳机一边没声音", "耳机只有右边有声音。", Channel.APP, "after_sales",
    TicketType.AFTER_SALES, Category.QUALITY_MALFUNCTION, 4, order="KS202611150001",
)


def _user(username: str) -> User:
    return get_user_model().objects.get(username=username)


def _channel_gateway() -> User:
    account = integration_account(username=DEMO_CHANNEL_USERNAME, integration=Integration.CHANNEL)
    if not account.first_name:
        # Named as the agents call it; otherwise its history rows show the username.
        account.first_name = "消息渠道"
        account.save(update_fields=["first_name"])
    return account


@transaction.atomic
def load_tickets() -> dict[str, int]:
    """Create the demo tickets that do not exist yet; return how many were created."""
    created = 0
    now = timezone.now()
    tickets = {}
    for scenario in [*SCENARIOS, DUPLICATE]:
        customer = Customer.objects.get(external_id=scenario.customer)
        existing = Ticket.objects.filter(customer=customer, subject=scenario.subject).first()
        if existing:
            tickets[scenario.subject] = existing
            continue
        tickets[scenario.subject] = _play(scenario, customer, now)
        created += 1
    duplicate = tickets[DUPLICATE.subject]
    survivor = tickets["收到的耳机左耳没有声音"]
    if duplicate.merged_into_id is None:
        services.ticket_merge(duplicate=duplicate, into=survivor, actor=_user("agent"),
                              comment="同一客户同一问题重复提交")
    return {"tickets": created}


def _play(scenario: Scenario, customer: Customer, now: datetime) -> Ticket:
    agent = _user("agent")
    reason, condition, wish = scenario.request
    ticket = services.ticket_create(
        actor=agent,
        channel=scenario.channel,
        customer=customer,
        order=Order.objects.get(number=scenario.order) if scenario.order else None,
        team=Team.objects.get(code=scenario.team),
        subject=scenario.subject,
        description=scenario.description,
        ticket_type=scenario.ticket_type,
        category=scenario.category,
        priority=scenario.priority,
        request_reason=reason,
        item_condition=condition,
        requested_resolution=wish,
        created_at=now - timedelta(hours=scenario.hours_ago),
        auto_assign=False,  # the scenario's steps say who takes it, and when
    )
    worker = _user(scenario.assignee) if scenario.assignee else agent
    resolution: Resolution | None = None  # the one the scenario proposed last
    for step in scenario.steps:
        kind = step[0]
        if kind == "transition":
            name, params = step[1], dict(step[2])
            comment = params.pop("comment", "")
            if name == "assign":
                services.ticket_assign(ticket=ticket, actor=worker, assignee=worker)
            else:
                services.ticket_transition(ticket=ticket, actor=worker, name=name,
                                           comment=comment, **params)
        elif kind == "inbound":
            # Customers write through a channel; its integration records their words.
            services.message_add(ticket=ticket, actor=_channel_gateway(), kind=MessageKind.INBOUND,
                                 body=step[1])
        elif kind in ("reply", "note"):
            services.message_add(ticket=ticket, actor=worker, kind=MessageKind(kind), body=step[1])
        elif kind == "escalate":
            services.ticket_escalate(ticket=ticket, actor=worker, level=step[1], reason=step[2])
        elif kind == "attach":
            services.attachment_add(ticket=ticket, actor=worker, evidence_kind=step[1],
                                    upload=SimpleUploadedFile(step[2], DEMO_PNG))
        elif kind == "propose":
            resolution = resolution_services.resolution_propose(ticket=ticket, actor=worker, kind=step[1])
        elif kind == "resolution" and step[1] == "execute":
            assert resolution is not None  # a scenario proposes before it acts on a resolution
            # Executed here rather than by the worker, so the demo ticket can be resolved now.
            resolution_services.resolution_execute(resolution_id=resolution.pk, actor=worker)
        elif kind == "resolution":
            assert resolution is not None
            resolution.refresh_from_db()
            resolution_services.resolution_transition(resolution=resolution, actor=worker, name=step[1],
                                           **step[2])
    return ticket
