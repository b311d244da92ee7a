"""Bulk generation of believable demo tickets, for load tests and large demos.

`generate_tickets(n)` creates n tickets with their timeline (one to three messages each),
a few tags and the audit history of all of it, plus a pool of customers with orders for
the tickets to refer to. A million tickets load in a few minutes on PostgreSQL.

Why not the services: `ticket_create` takes a number lock, validates and saves two history
rows per ticket, one round trip at a time; at a million tickets that is hours. Here rows
are built as plain tuples and written in batches, one transaction per batch:

* PostgreSQL (psycopg 3): binary COPY ... FROM STDIN, the fastest way in, while a
  background thread builds the next batch, so Python and the server work at the same
  time. Each batch checks foreign keys row by row (not all at COMMIT) and does not wait
  for its WAL flush (see CopyWriter.begin_batch).
* Any other database (SQLite in development): executemany of plain INSERTs, the values
  prepared by each model field's own `get_db_prep_save`. Not `bulk_create`, because it
  stamps auto_now / auto_now_add fields with the current time, which would make a ticket
  from last spring look changed today and its customer younger than its orders.

Skipping the services skips none of their rules: each ticket gets its category, priority,
team, SLA due times, next customer update and number from the functions the services use
(routing.services.assignment.classify, the escalation rules of tickets.services.tickets, sla.services.calendar,
numbering), as if it had come in with its template's team and been escalated to its
complaint level, so a rule changed there changes the generated tickets too. The routing
rules and SLA policies are read once per load, never per ticket.

What stays true while the generator writes next to normal traffic:

* Ticket numbers come from `reserve_ticket_numbers`, per local day, inside the batch's
  transaction: a failed batch gives its numbers back, and tickets created meanwhile through
  the services never get a number the load uses.
* Row ids are drawn from the tables' own sequences (nextval) before the rows are written,
  so messages and history can point at their ticket without a round trip per row, and the
  sequences only ever move forward. (Resetting a sequence to max(id) afterwards could hand
  out an id a concurrent, not yet committed insert already holds.) Elsewhere the ids
  continue from the table's highest id, read in the batch's transaction: fine where one
  process writes at a time (a development SQLite file); a concurrent writer makes the
  batch fail and roll back, never mixes rows up.
* A batch holds the row lock of its days' number counters until it commits (a few
  seconds); the tickets are written oldest first, so only the last batches touch today.
* Every ticket, message, tag link, customer, order and order item gets a "+" history row
  dated at its creation, by no user, with the reason `BULK_REASON`, like the rows the
  services write; ticket and message rows carry their hash-chain fields
  (core.services.audit_chain), computed as the rows are built.

The content is drawn from a seeded `random.Random`: the same seed against the same
database state and clock gives the same data.
"""

import collections.abc
import queue
import random
import secrets
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from itertools import accumulate, groupby
from operator import itemgetter
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core.models.roles import WORKING_ROLES, Integration, Role
from core.services import audit_chain
from core.services.accounts import DEMO_CHANNEL_USERNAME, integration_account, system_user
from routing.services import assignment as routing
from routing.services.config import routing_config
from shop.models import (
    Customer,
    CustomerTier,
    Order,
    OrderItem,
    OrderStatus,
    PaymentChannel,
    ProductCategory,
)
from sla.models import CustomerUpdateClock
from sla.services import calendar as sla
from tickets.models import (
    OPEN_STATES,
    CancelReason,
    Category,
    Channel,
    Collaborator,
    ComplaintLevel,
    ItemCondition,
    Message,
    MessageKind,
    Priority,
    RequestedResolution,
    RequestReason,
    Tag,
    Team,
    Ticket,
    TicketState,
    TicketType,
)
from tickets.services.numbering import format_ticket_number, reserve_ticket_numbers
from tickets.services.tickets import (
    escalated_priority,
    escalation_team_code,
    message_excerpt,
)

BULK_REASON = "bulk:create"
DEFAULT_BATCH_SIZE = 20_000

T = TypeVar("T")

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
HISTORY_DAYS = 180  # tickets are spread over the last half year
ORDER_HISTORY_DAYS = 210  # orders start a month earlier, so old tickets have orders too
ORDER_SHARE = 0.8  # tickets about an order; the rest are account, coupon, advice, ...
ORDER_WINDOW = (2 * HOUR, 30 * DAY)  # a ticket's order was paid this long before it
CUSTOMERS_PER_TICKET = 0.2
MIN_CUSTOMERS = 5

# State, weight, youngest and oldest age. Most tickets are closed; open ones are recent,
# as they would be in a team that keeps up with its queue.
STATE_PLAN = (
    (TicketState.NEW, 3, 2 * MINUTE, 1 * DAY),
    (TicketState.ASSIGNED, 3, 15 * MINUTE, 2 * DAY),
    (TicketState.IN_PROGRESS, 5, 1 * HOUR, 10 * DAY),
    (TicketState.PENDING_CUSTOMER, 3, 6 * HOUR, 10 * DAY),
    (TicketState.PENDING_INTERNAL, 3, 6 * HOUR, 14 * DAY),
    (TicketState.RESOLVED, 5, 4 * HOUR, 3 * DAY),
    (TicketState.CLOSED, 74, 1 * DAY, HISTORY_DAYS * DAY),
    (TicketState.CANCELLED, 4, 1 * HOUR, HISTORY_DAYS * DAY),
)
_STATES = tuple(state for state, *_ in STATE_PLAN)
_STATE_WEIGHTS = tuple(weight for _, weight, *_ in STATE_PLAN)
_STATE_BITS = 3  # a plan entry is (created timestamp << 3) | state index
assert len(STATE_PLAN) <= 1 << _STATE_BITS

# Relative contact volume per local hour: quiet at night, busy late morning and evening.
HOUR_WEIGHTS = (3, 2, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 9, 9, 10, 10, 9, 8, 8, 9, 10, 10, 8, 5)

CHANNEL_WEIGHTS = {
    Channel.ONLINE_CHAT: 35, Channel.APP: 25, Channel.PHONE: 15,
    Channel.MINI_PROGRAM: 12, Channel.WEB_FORM: 8, Channel.EMAIL: 5,
}
# The priority a request arrives with; the routing rules and the complaint level may raise it.
PRIORITY_WEIGHTS = {Priority.P0: 2, Priority.P1: 13, Priority.P2: 65, Priority.P3: 20}
COMPLAINT_WEIGHTS = {
    ComplaintLevel.NONE: 90, ComplaintLevel.L1: 6, ComplaintLevel.L2: 2.5,
    ComplaintLevel.L3: 0.5, ComplaintLevel.SPECIAL: 1,
}
CANCEL_WEIGHTS = {CancelReason.DUPLICATE: 50, CancelReason.WITHDRAWN: 40, CancelReason.SPAM: 10}
TIER_WEIGHTS = {CustomerTier.NORMAL: 90, CustomerTier.VIP: 8, CustomerTier.SVIP: 2}
PAYMENT_WEIGHTS = {
    PaymentChannel.ALIPAY: 40, PaymentChannel.WECHAT_PAY: 35, PaymentChannel.UNIONPAY: 6,
    PaymentChannel.CARD: 6, PaymentChannel.BALANCE: 5, PaymentChannel.CREDIT: 8,
}

TAG_VIP = "VIP客户"
TAG_ESCALATED = "升级投诉"
RANDOM_TAGS = ("加急", "二次来电", "大促订单", "待回访", "需回电")
TAGS = (TAG_VIP, TAG_ESCALATED, *RANDOM_TAGS)
RANDOM_TAG_SHARE = 0.12

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN_NAMES = (
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "晓雨", "浩然", "思琪", "子涵", "雨桐",
    "宇轩", "欣怡", "博文", "佳怡", "梓萱", "一诺", "俊杰", "婷婷", "文博", "嘉怡", "志强", "晨",
)
PHONE_PREFIXES = ("130", "131", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                  "155", "156", "158", "159", "166", "173", "176", "177", "180", "181", "186",
                  "187", "188", "189", "199")
CARRIERS = (("中通快递", "ZT", 10), ("圆通速递", "YT", 10), ("顺丰速运", "SF", 13),
            ("京东物流", "JDV", 12), ("韵达快递", "YD", 10), ("申通快递", "STO", 10),
            ("极兔速递", "JT", 12), ("EMS", "EMS", 9))


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    category: str
    price: Decimal
    warranty_months: int = 0
    flag: str = ""


PRODUCTS = (
    Product("EL-HP-0031", "无线降噪蓝牙耳机 Pro", ProductCategory.ELECTRONICS, Decimal("399.00"), 12),
    Product("EL-PH-8801", "5G 智能手机 256GB", ProductCategory.ELECTRONICS, Decimal("3999.00"), 12),
    Product("EL-WT-0210", "智能手表 运动版", ProductCategory.ELECTRONICS, Decimal("899.00"), 12),
    Product("EL-PB-0020", "20000mAh 快充移动电源", ProductCategory.ELECTRONICS, Decimal("129.00"), 12),
    Product("EL-LT-1402", "14英寸轻薄笔记本电脑", ProductCategory.ELECTRONICS, Decimal("5499.00"), 24),
    Product("HA-AF-0350", "空气炸锅 5L", ProductCategory.HOME_APPLIANCE, Decimal("299.00"), 12),
    Product("HA-VC-0800", "无线手持吸尘器", ProductCategory.HOME_APPLIANCE, Decimal("1299.00"), 24),
    Product("HA-RC-0120", "智能电饭煲 4L", ProductCategory.HOME_APPLIANCE, Decimal("459.00"), 12),
    Product("AP-DR-2231", "法式碎花连衣裙", ProductCategory.APPAREL, Decimal("259.00")),
    Product("AP-SN-0418", "轻便跑步鞋", ProductCategory.APPAREL, Decimal("459.00")),
    Product("AP-JK-0907", "连帽羽绒服", ProductCategory.APPAREL, Decimal("699.00")),
    Product("BT-SK-0315", "修护精华液 50ml", ProductCategory.BEAUTY, Decimal("349.00"),
            flag="hygiene_sealed"),
    Product("BT-LP-0102", "丝绒哑光口红", ProductCategory.BEAUTY, Decimal("189.00"),
            flag="hygiene_sealed"),
    Product("FF-CH-0420", "智利车厘子 2.5kg 礼盒", ProductCategory.FOOD_FRESH, Decimal("268.00"),
            flag="perishable"),
    Product("FP-NT-0230", "每日坚果 30袋装", ProductCategory.FOOD_PACKAGED, Decimal("129.90")),
    Product("HO-BD-1500", "纯棉四件套 1.8m", ProductCategory.HOME, Decimal("329.00")),
    Product("HO-CH-0077", "人体工学办公椅", ProductCategory.HOME, Decimal("899.00"), 12),
    Product("MB-MP-0911", "婴儿纸尿裤 L码", ProductCategory.MOTHER_BABY, Decimal("178.00"),
            flag="hygiene_sealed"),
    Product("BK-NV-0012", "《活着》精装纪念版", ProductCategory.BOOKS, Decimal("45.00")),
    Product("JW-RG-0007", "定制刻字纯银对戒", ProductCategory.JEWELRY, Decimal("888.00"),
            flag="custom_made"),
)


@dataclass(frozen=True)
class Template:
    """One kind of customer request, with the words the customer and the agents use."""

    category: str
    ticket_type: str
    team: str
    collaborator: Collaborator
    subject: str
    inbound: tuple[str, ...]
    reply: str
    summary: str
    request_reason: str = ""
    requested_resolution: str = ""
    item_condition: str = ""


# {order} is the order number, {item} the product title. Grouped by where the order stands
# when the ticket opens: delivered, on its way, not shipped yet; then money; then no order.
AFTER_DELIVERY = (
    Template(Category.ORDER_NOT_RECEIVED, TicketType.LOGISTICS, "logistics", Collaborator.LOGISTICS,
             "物流显示已签收但未收到货（订单 {order}）",
             ("订单 {order} 物流显示已经签收了，但我本人没有收到，家里人和门卫也都说没有代收。",
              "快递显示签收了，可是我根本没拿到{item}，麻烦帮忙查一下是谁签收的。"),
             "已为您联系快递核实签收情况，核实结果会在24小时内反馈给您。",
             "快递员误投至邻近驿站，已协调取回并送达，客户确认收货。",
             RequestReason.PARCEL_LOST, RequestedResolution.REISSUE),
    Template(Category.QUALITY_MALFUNCTION, TicketType.AFTER_SALES, "quality", Collaborator.SUPPLIER,
             "收到的{item}无法正常使用",
             ("收到的{item}用了两天就出问题了，重启也没用，订单号 {order}。",
              "{item}到手就有故障，开机没有反应，这种情况能换新吗？订单 {order}。"),
             "很抱歉给您带来不便，请您提供故障照片或视频，我们为您安排检测和换新。",
             "经检测为产品质量问题，已为客户办理换新，新品已发出。",
             RequestReason.QUALITY_DEFECT, RequestedResolution.EXCHANGE, ItemCondition.USED),
    Template(Category.RETURN_EXCHANGE, TicketType.AFTER_SALES, "after_sales", Collaborator.WAREHOUSE,
             "申请七天无理由退货（订单 {order}）",
             ("{item}不太合适，还没拆封，想申请七天无理由退货。",
              "订单 {order} 的{item}我不想要了，商品完好，怎么退货？"),
             "已为您通过退货申请，请在7天内按页面地址寄回，运费险将自动理赔。",
             "仓库已签收退货并验货通过，退款已原路退回。",
             RequestReason.NO_REASON, RequestedResolution.RETURN_REFUND, ItemCondition.INTACT),
    Template(Category.RETURN_EXCHANGE, TicketType.AFTER_SALES, "after_sales", Collaborator.WAREHOUSE,
             "商品与描述不符，申请退货",
             ("收到的{item}颜色和尺寸都和详情页描述不一样，订单 {order}，要求退货退款。",
              "{item}和宣传的差别太大了，材质明显不对，订单 {order}。"),
             "已收到您的反馈，请上传商品实物照片，我们核实后为您处理退货退款。",
             "核实商品描述存在偏差，已为客户办理退货退款并补偿运费。",
             RequestReason.NOT_AS_DESCRIBED, RequestedResolution.RETURN_REFUND, ItemCondition.OPENED),
    Template(Category.QUALITY_DAMAGE, TicketType.LOGISTICS, "logistics", Collaborator.LOGISTICS,
             "快递外包装破损，商品有磕碰",
             ("快递外包装破损严重，里面的{item}也有明显磕碰，订单 {order}。",
              "签收时发现箱子被压坏了，{item}外壳有裂痕，已经拍了照片。"),
             "非常抱歉，请提供外包装和商品破损的照片，我们为您申请补发或部分退款。",
             "已确认运输破损，向物流索赔并为客户补发新品。",
             RequestReason.LOGISTICS_DAMAGE, RequestedResolution.REISSUE, ItemCondition.DAMAGED),
    Template(Category.WRONG_OR_MISSING_ITEM, TicketType.AFTER_SALES, "after_sales",
             Collaborator.WAREHOUSE,
             "收到的商品少发了一件",
             ("订单 {order} 的包裹里少了一件{item}，也没有缺货说明。",
              "包裹里少了赠品和一件{item}，麻烦查一下出库记录。"),
             "已提交仓库核查出库称重记录，确认后为您补发。",
             "仓库确认漏发，已为客户补发缺少的商品。",
             RequestReason.MISSING_ITEM, RequestedResolution.REISSUE),
    Template(Category.WRONG_OR_MISSING_ITEM, TicketType.AFTER_SALES, "after_sales",
             Collaborator.WAREHOUSE,
             "发错货了，收到的不是我买的款式",
             ("我买的是{item}，收到的却是别的款式，订单 {order}。",
              "发错货了！订单 {order} 的{item}颜色规格都不对，要求换货。"),
             "抱歉给您添麻烦了，已为您安排换货，快递员会上门取件。",
             "已上门取回错发商品并换发正确款式，客户确认无误。",
             RequestReason.WRONG_ITEM, RequestedResolution.EXCHANGE, ItemCondition.INTACT),
    Template(Category.COUNTERFEIT, TicketType.COMPLAINT, "quality", Collaborator.SUPPLIER,
             "怀疑收到的{item}是假货",
             ("收到的{item}做工粗糙，防伪码查不到，怀疑是假货，订单 {order}。",
              "{item}和专柜的对比差别很大，你们卖假货吗？要求假一赔三。"),
             "我们非常重视，请提供防伪码和商品照片，已提交品牌方鉴定。",
             "品牌方鉴定为正品，已向客户出示鉴定报告，客户认可。",
             RequestReason.COUNTERFEIT, RequestedResolution.RETURN_REFUND, ItemCondition.OPENED),
)
IN_TRANSIT = (
    Template(Category.ORDER_LATE, TicketType.LOGISTICS, "logistics", Collaborator.LOGISTICS,
             "超过承诺时间仍未送达（订单 {order}）",
             ("订单 {order} 承诺三天内送达，现在已经超时了还没到。",
              "{item}什么时候能到？已经超过承诺的送达时间了。"),
             "已为您催促快递加急配送，如仍超时将按平台规则给予补偿。",
             "已加急送达，并按延迟发货规则向客户发放补偿券。",
             RequestReason.DELIVERY_TIMEOUT, RequestedResolution.COMPENSATION),
    Template(Category.LOGISTICS_EXCEPTION, TicketType.LOGISTICS, "logistics", Collaborator.LOGISTICS,
             "物流信息三天没有更新",
             ("订单 {order} 的物流三天都没有更新了，是不是丢件了？",
              "{item}的快递一直停在中转站，麻烦帮忙问一下。"),
             "已联系快递网点核实滞留原因，有结果第一时间通知您。",
             "快递确认中转滞留，已恢复派送，客户已收货。"),
)
NOT_SHIPPED = (
    Template(Category.OTHER, TicketType.AFTER_SALES, "after_sales", Collaborator.WAREHOUSE,
             "催促发货（订单 {order}）",
             ("订单 {order} 付款好几天了还没发货，什么时候能发？",
              "{item}下单很久了一直显示待发货，能不能尽快发？"),
             "已为您催促仓库优先安排出库，预计48小时内发出。",
             "仓库已优先出库，物流单号已同步给客户。",
             RequestReason.LATE_SHIPMENT),
    Template(Category.RETURN_EXCHANGE, TicketType.AFTER_SALES, "after_sales", Collaborator.WAREHOUSE,
             "未发货，申请取消订单并退款",
             ("订单 {order} 还没发货，我不想要了，申请取消并退款。",
              "拍错了{item}的规格，还没发货的话请帮我取消订单。"),
             "已为您拦截发货，取消成功后款项将原路退回。",
             "订单已取消，退款已原路退回。",
             RequestReason.NO_REASON, RequestedResolution.REFUND_ONLY),
)
PAYMENT = (
    Template(Category.REFUND_NOT_ARRIVED, TicketType.PAYMENT, "payment", Collaborator.FINANCE,
             "退款一直没有到账（订单 {order}）",
             ("订单 {order} 显示退款成功已经五天了，钱一直没有到账。",
              "{item}退货退款说已经退了，可是我的账户里没有收到。"),
             "已为您提交财务核查退款流水，银行卡退款一般需要1-3个工作日到账。",
             "财务确认退款已原路退回，已向客户提供退款流水号。"),
    Template(Category.DOUBLE_CHARGE, TicketType.PAYMENT, "payment", Collaborator.FINANCE,
             "同一笔订单被扣了两次款",
             ("订单 {order} 付款的时候扣了两次钱，请尽快退还多扣的部分。",
              "买{item}的时候网络卡了一下，结果被重复扣款了。"),
             "已为您提交财务核实重复扣款，确认后多扣款项将原路退回。",
             "已确认重复扣款，多扣款项已原路退回。",
             RequestReason.OTHER, RequestedResolution.REFUND_ONLY),
    Template(Category.OTHER, TicketType.CONSULTATION, "after_sales", Collaborator.FINANCE,
             "申请开具发票（订单 {order}）",
             ("订单 {order} 需要开增值税普通发票，抬头是公司名称。",
              "买的{item}需要开发票报销，怎么申请？"),
             "已为您提交开票申请，电子发票将在3个工作日内发送到您的邮箱。",
             "电子发票已开具并发送至客户邮箱。"),
)
NO_ORDER = (
    Template(Category.ACCOUNT_LOGIN, TicketType.TECHNICAL_FAULT, "after_sales", Collaborator.TECH,
             "账号无法登录，收不到验证码",
             ("手机一直收不到登录验证码，试了好几次了。", "账号登录提示异常，被限制登录了。"),
             "已为您提交技术排查，请确认手机没有拦截短信，稍后再试。",
             "技术确认短信通道异常已修复，客户已正常登录。"),
    Template(Category.COUPON, TicketType.CONSULTATION, "after_sales", Collaborator.TECH,
             "优惠券无法使用",
             ("领的满减券结算时用不了，提示不满足条件。", "店铺优惠券明明在有效期内，下单时却无法使用。"),
             "已为您核实优惠券使用规则，该券限指定商品使用，已为您补发一张通用券。",
             "已补发通用优惠券，客户下单成功。"),
    Template(Category.PAYMENT_FAILED, TicketType.PAYMENT, "payment", Collaborator.TECH,
             "支付时一直提示失败",
             ("付款时一直提示支付失败，换了银行卡也不行。", "用微信支付总是失败，但是钱好像被冻结了。"),
             "已为您提交支付通道排查，冻结款项会在24小时内自动解冻。",
             "支付通道恢复正常，客户已完成支付。"),
    Template(Category.SERVICE_ATTITUDE, TicketType.COMPLAINT, "complaints", Collaborator.TECH,
             "对客服的服务态度不满意",
             ("之前咨询的时候客服态度很差，问题也没解决。", "打了三次电话都没人给我解决问题，非常不满意。"),
             "非常抱歉给您带来不好的体验，已记录您的反馈，主管会跟进处理。",
             "主管已回电致歉并解决原问题，客户表示认可。"),
    Template(Category.OTHER, TicketType.CONSULTATION, "after_sales", Collaborator.TECH,
             "咨询会员积分规则",
             ("会员积分怎么兑换？快过期的积分能延期吗？", "想问一下积分可以抵扣运费吗？"),
             "积分可在会员中心兑换优惠券，每100积分抵1元，到期积分暂不支持延期。",
             "已向客户说明积分规则，客户无其他疑问。"),
)
GREETINGS = ("您好，", "亲，您好！", "您好，感谢您的耐心等待。", "您好，我是您的专属客服。")
WAITING_FOR_CUSTOMER = (
    "请您补充商品照片和外包装照片，收到后我们会立即处理。",
    "麻烦您提供一下收货地址和联系电话，方便我们核实。",
    "请您确认一下是否方便上门取件的时间。",
)
NOTES = (
    "客户情绪较激动，注意安抚，优先处理。",
    "已在系统中备注，跟进时先查看物流轨迹。",
    "客户要求加急处理，已同步组长。",
    "历史订单有类似问题，注意核对批次。",
    "已电话联系客户，约定明天下午回电。",
)
COLLABORATOR_NOTE = "已转{collaborator}协同处理，等待反馈。"
# In Chinese whatever the active language, like the rest of the generated text.
COLLABORATOR_NAMES = {
    Collaborator.LOGISTICS: "物流", Collaborator.WAREHOUSE: "仓库", Collaborator.SUPPLIER: "供应商",
    Collaborator.FINANCE: "财务", Collaborator.TECH: "技术",
}
CANCEL_NOTES = {
    CancelReason.DUPLICATE: "与客户的另一张工单重复，已在原工单跟进。",
    CancelReason.WITHDRAWN: "客户表示问题已自行解决，撤回申请。",
    CancelReason.SPAM: "无效咨询，内容与售后无关。",
}
RESOLUTION_PREFIX = "处理结果："


@dataclass(frozen=True)
class BulkResult:
    tickets: int
    messages: int
    customers: int
    orders: int
    seconds: float
    seed: int

    @property
    def tickets_per_second(self) -> float:
        return self.tickets / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class PoolOrder:
    """What a ticket needs to know about an order of the pool."""

    order_id: int
    customer_id: int
    tier: str
    item_id: int
    number: str
    title: str
    shipped_ts: int | None
    signed_ts: int | None


# --- table access ------------------------------------------------------------------------
Values = dict[str, Any]  # a row being built: attname -> value
Row = tuple[Any, ...]  # a row as written: the values in the table's column order

HISTORY_FIELDS = ("history_date", "history_change_reason", "history_type", "history_user_id")


def _column(f: "models.Field[Any, Any]") -> str:
    assert f.column is not None  # Django calls a field concrete when it has a column
    return f.column


class Table:
    """A table the generator writes: its columns in a fixed order, and row defaults.

    Rows start from the fields' defaults, so a field added to a model later is written
    with its default without touching the generator. A field with only a database
    default is left out and gets it from the database.
    """

    def __init__(self, model: type[models.Model], *, skip: Collection[str] = ()) -> None:
        self.model = model
        self.fields: list[models.Field[Any, Any]] = []
        self.defaults: Values = {}
        for f in model._meta.concrete_fields:
            default = None if f.primary_key else f.get_default()
            if f.attname in skip or hasattr(default, "resolve_expression"):
                continue
            self.fields.append(f)
            self.defaults[f.attname] = default
        self.attnames = [f.attname for f in self.fields]
        # Every table has several columns, so the getter returns a tuple (never one value).
        self._getter: Callable[[Values], Row] = itemgetter(*self.attnames)

    @property
    def columns(self) -> list[str]:
        return [_column(f) for f in self.fields]

    def new(self) -> Values:
        return self.defaults.copy()

    def row(self, values: Values) -> Row:
        return self._getter(values)


class HistoryTable(Table):
    """A simple_history table: the tracked columns, then when, why, how and by whom.

    A chained history table (core.services.audit_chain) also gets each row's chain fields,
    computed here as the row is built. Every object the generator writes is new (its id
    just taken from the sequence) and gets exactly one history row, so each row starts
    its object's chain: no previous hash to look up.
    """

    def __init__(self, model: type[models.Model], *, user_id: int,
                 keep_history_id: bool = False) -> None:
        self.user_id = user_id
        self.chained = audit_chain.is_chained(model)
        tail = HISTORY_FIELDS + (audit_chain.CHAIN_FIELDS if self.chained else ())
        skip = set(tail)
        if not keep_history_id:
            skip.add(model._meta.pk.attname)
        super().__init__(model, skip=skip)
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        self.fields += [by_attname[name] for name in tail]
        self.attnames += tail
        self._tracked = self.attnames[: len(self.attnames) - len(tail)]

    def row_at(self, values: Values, at: datetime) -> Row:
        row = (*self._getter(values), at, BULK_REASON, "+", self.user_id)
        if not self.chained:
            return row
        content = dict(zip(self._tracked, row, strict=False))
        content.update(zip(HISTORY_FIELDS, (at, BULK_REASON, "+", self.user_id), strict=True))
        return (*row, "", audit_chain.content_hash(self.model, content, ""))


class CopyWriter:
    """PostgreSQL through psycopg 3: ids from the sequences, rows through COPY."""

    def __init__(self, conn: BaseDatabaseWrapper) -> None:
        self.connection = conn
        self._sequences: dict[type[models.Model], str] = {}
        self._types: dict[str, dict[str, int]] = {}

    def begin_batch(self) -> None:
        """Tune the batch's transaction (only it) for a bulk load.

        Foreign keys are checked as each row arrives instead of all at COMMIT (Django
        declares them deferred): the checks then run while the next rows are still being
        built, rather than after, with both cores busy. The rows are written parents first,
        so nothing needs deferring.

        COMMIT returns before the batch's WAL reaches the disk: waiting for the flush costs
        about a second per batch on slow disks. A crash can lose the last batches, never
        half of one, which is fine for generated data.

        Called inside an outer transaction (tests), both settings last until it ends.
        """
        with self.connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL synchronous_commit TO off")

    def take_ids(self, model: type[models.Model], count: int) -> list[int]:
        if not count:
            return []
        with self.connection.cursor() as cursor:
            sequence = self._sequences.get(model)
            if sequence is None:
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)",
                               [model._meta.db_table, model._meta.pk.column])
                sequence = self._sequences[model] = cursor.fetchone()[0]
            cursor.execute(
                "SELECT array_agg(nextval(%s::regclass)) FROM generate_series(1, %s)",
                [sequence, count],
            )
            return sorted(cursor.fetchone()[0])

    def write(self, table: Table, rows: Iterable[Row]) -> None:
        # Binary COPY: the server reads timestamps and numbers as they are stored instead
        # of parsing their text, which is most of its work per row besides the indexes.
        quote = self.connection.ops.quote_name
        db_table = table.model._meta.db_table
        column_names = table.columns
        columns = ", ".join(quote(column) for column in column_names)
        sql = f"COPY {quote(db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"
        with self.connection.cursor() as cursor:
            types = self._column_types(cursor, db_table)
            with cursor.cursor.copy(sql) as copy:
                copy.set_types([types[column] for column in column_names])
                write_row = copy.write_row
                for row in rows:
                    write_row(row)

    def _column_types(self, cursor: CursorWrapper, db_table: str) -> dict[str, int]:
        """The type oid of each column, as the table has it (binary COPY needs them)."""
        types = self._types.get(db_table)
        if types is None:
            cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute"
                " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [self.connection.ops.quote_name(db_table)],
            )
            types = self._types[db_table] = dict(cursor.fetchall())
        return types

    def finish(self, tables: Iterable[Table]) -> None:
        """Vacuum and analyse what was loaded, so the first queries after it are fast.

        ANALYZE gives the planner its statistics; VACUUM sets the visibility map, without
        which index-only scans still visit the heap (a fresh million-ticket load answered the
        dashboard 2–3 times slower until autovacuum came round). VACUUM cannot run inside a
        transaction, so a load wrapped in one (a test) only analyses.
        """
        quote = self.connection.ops.quote_name
        names = ", ".join(sorted({quote(t.model._meta.db_table) for t in tables}))
        command = "ANALYZE" if self.connection.in_atomic_block else "VACUUM (ANALYZE)"
        with self.connection.cursor() as cursor:
            cursor.execute(f"{command} {names}")
            if self.connection.in_atomic_block:
                # The outer transaction goes on: its foreign keys are checked at COMMIT
                # again, as Django declares them (begin_batch made them immediate), for
                # writers that insert a row before the one it refers to (ticket_create).
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")


class InsertWriter:
    """Any other database: ids after the table's highest, rows through executemany."""

    def __init__(self, conn: BaseDatabaseWrapper) -> None:
        self.connection = conn
        self._taken: dict[str, int] = {}

    def begin_batch(self) -> None:
        """Nothing to tune."""

    def take_ids(self, model: type[models.Model], count: int) -> list[int]:
        if not count:
            return []
        quote = self.connection.ops.quote_name
        table = model._meta.db_table
        with self.connection.cursor() as cursor:
            # Identifiers from the model's metadata, quoted; no user input reaches the SQL.
            cursor.execute(f"SELECT MAX({quote(_column(model._meta.pk))}) FROM {quote(table)}")  # noqa: S608
            highest = cursor.fetchone()[0] or 0
            if self.connection.vendor == "sqlite":
                # AUTOINCREMENT never reuses the id of a deleted row; neither do we, so a new
                # ticket cannot inherit the history of a deleted one.
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                found = cursor.fetchone()
                highest = max(highest, found[0] if found else 0)
        first = max(highest, self._taken.get(table, 0)) + 1
        self._taken[table] = first + count - 1
        return list(range(first, first + count))

    def write(self, table: Table, rows: Iterable[Row]) -> None:
        conn = self.connection
        quote = conn.ops.quote_name
        columns = ", ".join(quote(column) for column in table.columns)
        placeholders = ", ".join(["%s"] * len(table.fields))
        table_name = quote(table.model._meta.db_table)
        sql = f"INSERT INTO {table_name} ({columns}) VALUES ({placeholders})"  # noqa: S608
        preps = [f.get_db_prep_save for f in table.fields]
        params = [[prep(value, conn) for prep, value in zip(preps, row, strict=True)]
                  for row in rows]
        if params:
            with conn.cursor() as cursor:
                cursor.executemany(sql, params)

    def finish(self, tables: Iterable[Table]) -> None:
        """Nothing to do: the planner statistics matter most on PostgreSQL (see CopyWriter)."""


def _writer_for(conn: BaseDatabaseWrapper) -> CopyWriter | InsertWriter:
    if conn.vendor == "postgresql":
        with conn.cursor() as cursor:
            if hasattr(cursor.cursor, "copy"):  # psycopg 3; psycopg2 has another COPY API
                return CopyWriter(conn)
    return InsertWriter(conn)


# --- the generator -----------------------------------------------------------------------
@dataclass
class Batch:
    """The rows of one transaction, per table in writing order (parents first)."""

    writes: list[tuple[Table, Iterable[Row]]]
    tickets: list[Values] = field(default_factory=list)  # numbered just before writing
    counts: dict[str, int] = field(default_factory=dict)


# A generator, not just an iterator: closing it runs its clean-up.
BatchBuilder = collections.abc.Generator[Batch, None, None]


def _in_background(build: Callable[[], BatchBuilder]) -> BatchBuilder:
    """Yield the batches `build` makes, building the next while the caller writes one.

    At most one finished batch waits, which bounds memory. An error in the builder is
    raised here; if the caller stops early, the builder stops too. None marks the end.
    """
    ready: queue.Queue[Batch | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: Batch | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.2)
            except queue.Full:
                continue
            return True
        return False

    def work() -> None:
        batches = build()
        try:
            for batch in batches:
                if not put(batch):
                    return
            put(None)
        except BaseException as exc:  # handed to the caller, who raises it
            put(exc)
        finally:
            batches.close()  # runs build()'s clean-up in this thread, now

    worker = threading.Thread(target=work, name="bulk-tickets-builder", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _weighted(mapping: Mapping[T, float]) -> tuple[list[T], list[float]]:
    """Population and cumulative weights, so each draw skips summing the weights again."""
    return list(mapping), list(accumulate(mapping.values()))


class Generator:
    """Builds and writes one run's rows; see the module docstring for the guarantees."""

    def __init__(self, *, seed: int, now: datetime, batch_size: int,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.rng = random.Random(seed)  # noqa: S311 -- demo data, reproducible by seed, not secret
        self.seed = seed
        self.now = now
        self.now_ts = int(now.timestamp())
        offset = timezone.localtime(now).utcoffset()
        self.utc_offset = int(offset.total_seconds()) if offset else 0
        self.batch_size = batch_size
        self.progress = progress
        self.writer = _writer_for(connection)
        self.ids = self.writer  # where the builder takes row ids; see run()

        # The loader is the system acting: its history rows name the system account, and the
        # customers' words arrive through the demo channel integration, as live ones do.
        system_id = system_user().pk
        self.channel_account_id = integration_account(
            username=DEMO_CHANNEL_USERNAME, integration=Integration.CHANNEL).pk
        self.customers_t = Table(Customer)
        self.customers_h = HistoryTable(Customer.history.model, user_id=system_id)
        self.orders_t = Table(Order)
        self.orders_h = HistoryTable(Order.history.model, user_id=system_id)
        self.items_t = Table(OrderItem)
        self.items_h = HistoryTable(OrderItem.history.model, user_id=system_id)
        self.tickets_t = Table(Ticket)
        self.tickets_h = HistoryTable(Ticket.history.model, user_id=system_id,
                                      keep_history_id=True)
        self.clocks_t = Table(CustomerUpdateClock)
        self.messages_t = Table(Message)
        self.messages_h = HistoryTable(Message.history.model, user_id=system_id)
        tags_field = Ticket._meta.get_field("tags")
        self.tags_t = Table(tags_field.remote_field.through)
        tags_history = HistoricalRecords.m2m_models[tags_field]
        self.tags_h = Table(tags_history, skip=[tags_history._meta.pk.attname])

        self.channels = _weighted(CHANNEL_WEIGHTS)
        self.priorities = _weighted(PRIORITY_WEIGHTS)
        self.levels = _weighted(COMPLAINT_WEIGHTS)
        self.cancels = _weighted(CANCEL_WEIGHTS)
        self.tiers = _weighted(TIER_WEIGHTS)
        self.payments = _weighted(PAYMENT_WEIGHTS)
        self.orders_per_customer = _weighted({1: 50, 2: 35, 3: 15})
        self.cancelled_from = _weighted({
            TicketState.NEW: 50, TicketState.ASSIGNED: 20, TicketState.IN_PROGRESS: 30,
        })
        self._load_people()
        # The routing rules and SLA policies, read once: generation never queries per ticket.
        self.routing = routing_config()
        self.sla_terms = {
            (priority, level): sla.terms_for(priority=priority, complaint_level=level,
                                             config=self.routing)
            for priority in Priority.values for level in ComplaintLevel.values
        }
        self.customers: list[tuple[int, str]] = []
        self._pool_orders: list[tuple[int, PoolOrder]] = []
        self.order_paid: list[int] = []
        self.orders: list[PoolOrder] = []
        self.counts = {"tickets": 0, "messages": 0, "customers": 0, "orders": 0}

    # --- reference data --------------------------------------------------------------
    def _load_people(self) -> None:
        """Teams by code, and who may be assigned each team's tickets."""
        self.tag_ids = {name: Tag.objects.get_or_create(name=name)[0].pk for name in TAGS}
        teams = list(Team.objects.filter(is_active=True).order_by("pk"))
        self.team_ids = {team.code: team.pk for team in teams}
        user_model = get_user_model()
        workers = user_model.objects.filter(is_active=True, groups__name__in=WORKING_ROLES)
        self.agents = sorted(set(workers.values_list("pk", flat=True)))
        if not self.agents:
            raise ImproperlyConfigured(
                "No active user holds a working role to assign tickets to; "
                "load the demo people first (manage.py seed_demo)."
            )
        supervisors = sorted(set(
            workers.filter(groups__name=Role.SUPERVISOR).values_list("pk", flat=True)
        ))
        members = Team.members.through.objects.filter(user_id__in=self.agents)
        # Looked up by a ticket's team, which may be none (then the fallback agents work it).
        self.team_agents: dict[int | None, list[int]] = {}
        for team_id, user_id in members.order_by("team_id", "user_id").values_list(
            "team_id", "user_id"
        ):
            self.team_agents.setdefault(team_id, []).append(user_id)
        # A team nobody works in is covered by the supervisors (they may take any ticket).
        self.fallback_agents = supervisors or self.agents

    # --- helpers ---------------------------------------------------------------------
    def _pick(self, weighted: tuple[list[T], list[float]]) -> T:
        """One weighted draw; random.choices does the same with more overhead per call."""
        population, cumulative = weighted
        return population[bisect_right(cumulative, self.rng.random() * cumulative[-1])]

    def _at(self, ts: int) -> datetime:
        return datetime.fromtimestamp(ts, UTC)

    def _busy_time(self, youngest: int, oldest: int) -> int:
        """A time between `oldest` and `youngest` seconds ago, weighted by the hour of day."""
        rng = self.rng
        span = oldest - youngest
        while True:
            ts = self.now_ts - youngest - int(rng.random() * span)
            if rng.random() * 10 < HOUR_WEIGHTS[(ts + self.utc_offset) // HOUR % 24]:
                return ts

    def _chunks(self, total: int) -> Iterator[int]:
        for start in range(0, total, self.batch_size):
            yield min(self.batch_size, total - start)

    # --- the run: build batches, write each in its own transaction ------------------
    def run(self, tickets: int, customers: int) -> None:
        """Create the customer pool, then the tickets, one committed batch at a time.

        On PostgreSQL the next batch is built in a background thread while the current
        one is written, so Python and the server work at the same time; the thread
        takes its ids from the sequences on its own connection (sequences ignore
        transactions). Elsewhere the ids depend on the rows already written, so each
        batch is built inside the transaction that writes it.
        """
        if isinstance(self.writer, CopyWriter):
            self._run_in_background(tickets, customers)
        else:
            self._run_in_turn(tickets, customers)
        self.writer.finish(self.tables)

    def _run_in_background(self, tickets: int, customers: int) -> None:
        def build() -> BatchBuilder:
            self.ids = CopyWriter(connection)  # this thread's own connection
            try:
                yield from self._build(tickets, customers)
            finally:
                connection.close()

        with closing(_in_background(build)) as batches:
            for batch in batches:
                with transaction.atomic():
                    self._write(batch)
                self._committed(batch, tickets)

    def _run_in_turn(self, tickets: int, customers: int) -> None:
        self.ids = self.writer
        batches = self._build(tickets, customers)
        while True:
            with transaction.atomic():
                batch = next(batches, None)
                if batch is None:
                    break
                self._write(batch)
            self._committed(batch, tickets)

    def _write(self, batch: "Batch") -> None:
        self.writer.begin_batch()
        if batch.tickets:
            self._number(batch.tickets)
        for table, rows in batch.writes:
            self.writer.write(table, rows)

    def _committed(self, batch: "Batch", total: int) -> None:
        for name, count in batch.counts.items():
            self.counts[name] += count
        if batch.tickets and self.progress:
            self.progress(self.counts["tickets"], total)

    def _build(self, tickets: int, customers: int) -> BatchBuilder:
        for count in self._chunks(customers):
            yield self._pool_batch(count)
        # Sorted by payment time, so a ticket finds the orders paid shortly before it.
        self._pool_orders.sort(key=itemgetter(0))
        self.order_paid = [paid for paid, _order in self._pool_orders]
        self.orders = [order for _paid, order in self._pool_orders]
        self._pool_orders = []
        plan = self.plan(tickets)
        start = 0
        for count in self._chunks(tickets):
            yield self._ticket_batch(plan[start:start + count])
            start += count

    # --- customers and orders ----------------------------------------------------------
    def _pool_batch(self, count: int) -> "Batch":
        """`count` customers with one to three orders (one item each)."""
        rng, ids = self.rng, self.ids
        customer_ids = ids.take_ids(Customer, count)
        customers, orders = [], []
        for customer_id in customer_ids:
            tier = self._pick(self.tiers)
            created = self.now_ts - ORDER_HISTORY_DAYS * DAY - int(rng.random() * 700 * DAY)
            c = self.customers_t.new()
            c.update(
                id=customer_id,
                external_id=f"BK{customer_id:09d}",
                name=rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
                phone=rng.choice(PHONE_PREFIXES) + f"{rng.randrange(100_000_000):08d}",
                tier=tier,
                created_at=self._at(created),
                updated_at=self._at(created),
            )
            customers.append(c)
            self.customers.append((customer_id, tier))
            for _ in range(self._pick(self.orders_per_customer)):
                orders.append((customer_id, tier))

        order_ids = ids.take_ids(Order, len(orders))
        item_ids = ids.take_ids(OrderItem, len(orders))
        order_rows, item_rows = [], []
        for (customer_id, tier), order_id, item_id in zip(orders, order_ids, item_ids, strict=True):
            o, i, pool_order = self._order(order_id, item_id, customer_id, tier)
            order_rows.append(o)
            item_rows.append(i)
            self._pool_orders.append((int(o["paid_at"].timestamp()), pool_order))

        return Batch(
            writes=[
                (self.customers_t, map(self.customers_t.row, customers)),
                (self.customers_h, (self.customers_h.row_at(c, c["created_at"])
                                    for c in customers)),
                (self.orders_t, map(self.orders_t.row, order_rows)),
                (self.orders_h, (self.orders_h.row_at(o, o["created_at"]) for o in order_rows)),
                (self.items_t, map(self.items_t.row, item_rows)),
                (self.items_h, (self.items_h.row_at(i, o["created_at"])
                                for i, o in zip(item_rows, order_rows, strict=True))),
            ],
            counts={"customers": len(customers), "orders": len(order_rows)},
        )

    def _order(self, order_id: int, item_id: int, customer_id: int,
               tier: str) -> tuple[Values, Values, PoolOrder]:
        rng, now = self.rng, self.now_ts
        product = rng.choice(PRODUCTS)
        quantity = 1 if rng.random() < 0.9 else 2
        paid = self._busy_time(2 * HOUR, ORDER_HISTORY_DAYS * DAY)
        shipped = paid + 2 * HOUR + int(rng.random() * 46 * HOUR)
        signed = shipped + 20 * HOUR + int(rng.random() * 76 * HOUR)
        if signed <= now:
            status = OrderStatus.COMPLETED if now - signed > 15 * DAY else OrderStatus.SIGNED
        elif shipped <= now:
            status = OrderStatus.SHIPPED
        else:
            status = OrderStatus.PAID
        carrier, prefix, digits = rng.choice(CARRIERS)
        shipped_ts = shipped if shipped <= now else None
        signed_ts = signed if signed <= now else None
        amount = product.price * quantity
        o = self.orders_t.new()
        o.update(
            id=order_id,
            # The local day from the current offset: good enough for an order number.
            number=f"BK{self._at(paid + self.utc_offset):%Y%m%d}{order_id:08d}",
            customer_id=customer_id,
            status=status,
            paid_amount=amount,
            payment_channel=self._pick(self.payments),
            paid_at=self._at(paid),
            shipped_at=self._at(shipped) if shipped_ts else None,
            delivered_at=self._at(signed) if signed_ts else None,
            signed_at=self._at(signed) if signed_ts else None,
            promised_delivery_at=self._at(paid + 72 * HOUR),
            carrier=carrier if shipped_ts else "",
            tracking_number=(f"{prefix}{rng.randrange(10 ** digits):0{digits}d}"
                             if shipped_ts else ""),
            created_at=self._at(paid - 60 - int(rng.random() * 20 * MINUTE)),
        )
        i = self.items_t.new()
        i.update(
            id=item_id,
            order_id=order_id,
            sku=product.sku,
            title=product.title,
            category=product.category,
            unit_price=product.price,
            quantity=quantity,
            paid_amount=amount,
            warranty_months=product.warranty_months,
        )
        if product.flag:
            i[product.flag] = True
        pool_order = PoolOrder(order_id, customer_id, tier, item_id, o["number"], product.title,
                               shipped_ts, signed_ts)
        return o, i, pool_order

    def _order_for(self, created: int) -> PoolOrder | None:
        """An order paid shortly before `created`, else any earlier one, else none."""
        paid = self.order_paid
        hi = bisect_right(paid, created - ORDER_WINDOW[0])
        lo = bisect_left(paid, created - ORDER_WINDOW[1])
        if hi > lo:
            return self.orders[self.rng.randrange(lo, hi)]
        if hi:
            return self.orders[self.rng.randrange(hi)]
        return None

    # --- tickets -----------------------------------------------------------------------
    def plan(self, count: int) -> list[int]:
        """Creation times and states of `count` tickets, oldest first.

        Each ticket is one int, (timestamp << 3) | state index, so a million fit in a few
        megabytes and sort fast. Every state appears at least once when count allows.
        """
        rng = self.rng
        states = rng.choices(range(len(STATE_PLAN)), weights=_STATE_WEIGHTS, k=count)
        if count >= len(STATE_PLAN):
            states[: len(STATE_PLAN)] = range(len(STATE_PLAN))
        plan = []
        for index in states:
            _state, _weight, youngest, oldest = STATE_PLAN[index]
            plan.append(self._busy_time(youngest, oldest) << _STATE_BITS | index)
        plan.sort()
        return plan

    def _ticket_batch(self, plan: list[int]) -> "Batch":
        ids = self.ids
        ticket_ids = ids.take_ids(Ticket, len(plan))
        history_ids = ids.take_ids(Ticket.history.model, len(plan))
        tickets: list[Values] = []
        messages: list[Values] = []
        links: list[tuple[int, int]] = []  # (ticket id, tag id)
        updates: list[Row] = []
        mask = (1 << _STATE_BITS) - 1
        for entry, ticket_id, history_id in zip(plan, ticket_ids, history_ids, strict=True):
            t = self._ticket(entry >> _STATE_BITS, _STATES[entry & mask], ticket_id, messages,
                             links, updates)
            t["history_id"] = history_id
            tickets.append(t)

        for m, message_id in zip(messages, ids.take_ids(Message, len(messages)), strict=True):
            m["id"] = message_id
        link_ids = ids.take_ids(self.tags_t.model, len(links))
        by_id = {t["id"]: t for t in tickets} if links else {}
        tag_rows = [
            {"id": link_id, "ticket_id": ticket_id, "tag_id": tag_id,
             "history_id": by_id[ticket_id]["history_id"]}
            for link_id, (ticket_id, tag_id) in zip(link_ids, links, strict=True)
        ]
        # Lazy: the ticket rows are built when written, after _number gave them numbers.
        return Batch(
            writes=[
                (self.tickets_t, map(self.tickets_t.row, tickets)),
                (self.tickets_h, (self.tickets_h.row_at(t, t["created_at"]) for t in tickets)),
                (self.clocks_t, updates),
                # The tag links, and their snapshot under the ticket's history row
                # (simple_history records a ticket's tags with each of its history rows).
                (self.tags_t, map(self.tags_t.row, tag_rows)),
                (self.tags_h, map(self.tags_h.row, tag_rows)),
                (self.messages_t, map(self.messages_t.row, messages)),
                (self.messages_h, (self.messages_h.row_at(m, m["created_at"])
                                   for m in messages)),
            ],
            tickets=tickets,
            counts={"tickets": len(tickets), "messages": len(messages)},
        )

    def _number(self, tickets: list[Values]) -> None:
        """Give the tickets their numbers, inside the transaction that writes them.

        The tickets are in time order, so each local day is one run of the batch and
        takes one reservation.
        """
        for day, group in groupby(tickets, key=lambda t: timezone.localdate(t["created_at"])):
            day_tickets = list(group)
            first = reserve_ticket_numbers(day=day, count=len(day_tickets))
            for sequence, t in enumerate(day_tickets, start=first):
                t["number"] = format_ticket_number(day, sequence)

    def _team_id(self, template_team: str, escalation_team: str | None,
                 routed: routing.Routing) -> int | None:
        """The team the services give: the template's (an explicit team wins over routing),
        else the routed one; then the complaint level's team, where one handles the level."""
        team_id = self.team_ids.get(template_team)
        if team_id is None and routed.team is not None:
            team_id = routed.team.pk
        if escalation_team is not None:
            return self.team_ids.get(escalation_team, team_id)
        return team_id

    def _ticket(self, created: int, state: TicketState, ticket_id: int, messages: list[Values],
                links: list[tuple[int, int]], updates: list[Row]) -> Values:
        rng, now = self.rng, self.now_ts

        # Who, about what.
        order = self._order_for(created) if rng.random() < ORDER_SHARE else None
        if order is None:
            customer_id, tier = rng.choice(self.customers)
            template = rng.choice(NO_ORDER)
        else:
            customer_id, tier = order.customer_id, order.tier
            if order.signed_ts is not None and order.signed_ts <= created:
                template = rng.choice(AFTER_DELIVERY if rng.random() < 0.75 else PAYMENT)
            elif order.shipped_ts is None or order.shipped_ts > created:
                template = rng.choice(NOT_SHIPPED if rng.random() < 0.75 else PAYMENT)
            else:
                template = rng.choice(IN_TRANSIT if rng.random() < 0.75 else PAYMENT)
        words = {"order": order.number if order else "", "item": order.title if order else ""}
        subject = template.subject.format(**words)[:200]
        description = rng.choice(template.inbound).format(**words)
        channel = self._pick(self.channels)
        level = self._pick(self.levels)
        if level == ComplaintLevel.SPECIAL and tier == CustomerTier.NORMAL:
            level = ComplaintLevel.L1
        # Category, priority and team as the services give them: created through intake with
        # the template's team, then escalated to its complaint level.
        routed = routing.classify(subject=subject, description=description,
                                  category=template.category, channel=channel, tier=tier,
                                  priority=self._pick(self.priorities),
                                  request_reason=template.request_reason if order else "",
                                  config=self.routing)
        priority = escalated_priority(priority=routed.priority, level=level)
        escalation_team = escalation_team_code(level)
        team_id = self._team_id(template.team, escalation_team, routed)

        # When things happened; squeezed to fit if the ticket is younger than its story.
        cancelled_from: TicketState | None = None
        if state == TicketState.CANCELLED:
            cancelled_from = self._pick(self.cancelled_from)
        assigned = created + MINUTE + int(rng.random() * 30 * MINUTE)
        responded = assigned + (2 * MINUTE + int(rng.random() * 2 * HOUR) if rng.random() < 0.85
                                else 2 * HOUR + int(rng.random() * 6 * HOUR))
        resolved = responded + HOUR + int(rng.random() * 59 * HOUR)
        closed = resolved + HOUR + int(rng.random() * 71 * HOUR)
        # A ticket not cancelled has no step it was cancelled from (None): then `created`.
        cancelled_after: dict[TicketState | None, int] = {
            TicketState.NEW: created, TicketState.ASSIGNED: assigned,
            TicketState.IN_PROGRESS: responded,
        }
        cancelled = cancelled_after.get(cancelled_from, created)
        cancelled += 10 * MINUTE + int(rng.random() * 24 * HOUR)
        last = {
            TicketState.NEW: created, TicketState.ASSIGNED: assigned,
            TicketState.RESOLVED: resolved, TicketState.CLOSED: closed,
            TicketState.CANCELLED: cancelled,
        }.get(state, responded)
        if last > created and last - created > (now - created) * 0.95:
            scale = (now - created) * 0.95 / (last - created)
            assigned, responded, resolved, closed, cancelled = (
                created + int((ts - created) * scale)
                for ts in (assigned, responded, resolved, closed, cancelled)
            )

        worked = state != TicketState.NEW and cancelled_from != TicketState.NEW
        responded_to = state not in (TicketState.NEW, TicketState.ASSIGNED) and (
            cancelled_from in (None, TicketState.IN_PROGRESS)
        )
        assignee = None
        if worked:
            assignee = rng.choice(self.team_agents.get(team_id) or self.fallback_agents)

        paused_seconds = 0
        paused_at = None
        if state == TicketState.PENDING_CUSTOMER:
            paused_at = responded + int((now - responded) * (0.2 + rng.random() * 0.7))
        elif state in (TicketState.RESOLVED, TicketState.CLOSED) and rng.random() < 0.2:
            paused_seconds = int((resolved - responded) * (0.1 + rng.random() * 0.4))
        elif state == TicketState.IN_PROGRESS and rng.random() < 0.15:
            paused_seconds = int((now - responded) * (0.1 + rng.random() * 0.3))

        created_at = self._at(created)
        terms = self.sla_terms[priority, level]
        due = sla.due_times(created_at=created_at, terms=terms, paused_seconds=paused_seconds)

        # The timeline: the customer's words, the first answer, then a note or the outcome.
        # (kind, channel, body, author id, timestamp); a ticket nobody works has no author.
        ticket_messages: list[tuple[MessageKind, str, str, int | None, int]] = [
            (MessageKind.INBOUND, channel, description, self.channel_account_id, created),
        ]
        if responded_to:
            body = rng.choice(GREETINGS) + template.reply
            ticket_messages.append((MessageKind.REPLY, channel, body, assignee, responded))
        if state in (TicketState.RESOLVED, TicketState.CLOSED) and rng.random() < 0.7:
            body = rng.choice(GREETINGS) + RESOLUTION_PREFIX + template.summary
            ticket_messages.append((MessageKind.REPLY, channel, body, assignee, resolved))
        elif state == TicketState.PENDING_CUSTOMER and rng.random() < 0.8:
            assert paused_at is not None  # every ticket waiting on its customer is paused
            ticket_messages.append((MessageKind.REPLY, channel, rng.choice(WAITING_FOR_CUSTOMER),
                                    assignee, paused_at))
        elif state == TicketState.PENDING_INTERNAL and rng.random() < 0.8:
            label = COLLABORATOR_NAMES[template.collaborator]
            at = responded + int((now - responded) * rng.random() * 0.5)
            ticket_messages.append((MessageKind.NOTE, "", COLLABORATOR_NOTE.format(
                collaborator=label), assignee, at))
        elif state in (TicketState.IN_PROGRESS, TicketState.ASSIGNED) and rng.random() < 0.3:
            start = responded if responded_to else assigned
            at = start + int((now - start) * rng.random() * 0.5)
            ticket_messages.append((MessageKind.NOTE, "", rng.choice(NOTES), assignee, at))
        cancel_reason = ""
        if state == TicketState.CANCELLED:
            cancel_reason = self._pick(self.cancels)
            if rng.random() < 0.6:
                ticket_messages.append((MessageKind.NOTE, "", CANCEL_NOTES[cancel_reason],
                                        assignee, cancelled))

        last_reply = max((at for kind, _c, _b, _a, at in ticket_messages
                          if kind == MessageKind.REPLY), default=created)
        touched = max(at for *_rest, at in ticket_messages)
        if state == TicketState.RESOLVED:
            touched = max(touched, resolved)
        elif state == TicketState.CLOSED:
            touched = max(touched, closed)
        elif state == TicketState.CANCELLED:
            touched = max(touched, cancelled)
        elif state != TicketState.NEW:
            touched = max(touched, assigned)

        t = self.tickets_t.new()
        t.update(
            id=ticket_id,
            channel=channel,
            ticket_type=TicketType.COMPLAINT if escalation_team else template.ticket_type,
            category=routed.category,
            priority=priority,
            complaint_level=level,
            state=state,
            subject=subject,
            description=description,
            customer_id=customer_id,
            order_id=order.order_id if order else None,
            order_item_id=order.item_id if order else None,
            team_id=team_id,
            assignee_id=assignee,
            created_by_id=(assignee or rng.choice(self.agents)) if channel == Channel.PHONE
            else None,
            request_reason=template.request_reason if order else "",
            item_condition=template.item_condition if order else "",
            requested_resolution=template.requested_resolution if order else "",
            waiting_on=template.collaborator if state == TicketState.PENDING_INTERNAL else "",
            # The customer wrote once, when the ticket was opened; a reply ends their wait.
            last_customer_message=message_excerpt(description),
            last_customer_message_at=created_at,
            customer_waiting_since=None if last_reply > created else created_at,
            resolution_summary=(template.summary
                                if state in (TicketState.RESOLVED, TicketState.CLOSED) else ""),
            cancel_reason=cancel_reason,
            first_response_due_at=due.first_response_due_at,
            first_response_at=self._at(responded) if responded_to else None,
            resolution_due_at=due.resolution_due_at,
            paused_at=self._at(paused_at) if paused_at is not None else None,
            paused_seconds=paused_seconds,
            resolved_at=(self._at(resolved)
                         if state in (TicketState.RESOLVED, TicketState.CLOSED) else None),
            closed_at=(self._at(closed) if state == TicketState.CLOSED
                       else self._at(cancelled) if state == TicketState.CANCELLED else None),
            reopened_count=(1 if state in (TicketState.RESOLVED, TicketState.CLOSED)
                            and rng.random() < 0.04 else 0),
            created_at=created_at,
            updated_at=self._at(touched),
        )

        if state in OPEN_STATES:
            updates.append(self.clocks_t.row({
                "ticket_id": ticket_id,
                "due_at": sla.customer_update_due_at(after=self._at(last_reply), terms=terms),
            }))

        for kind, message_channel, body, author, at in ticket_messages:
            m = self.messages_t.new()
            m.update(ticket_id=ticket_id, kind=kind, channel=message_channel, body=body,
                     author_id=author, created_at=self._at(at))
            messages.append(m)

        if tier != CustomerTier.NORMAL:
            links.append((ticket_id, self.tag_ids[TAG_VIP]))
        if escalation_team:
            links.append((ticket_id, self.tag_ids[TAG_ESCALATED]))
        if rng.random() < RANDOM_TAG_SHARE:
            links.append((ticket_id, self.tag_ids[rng.choice(RANDOM_TAGS)]))
        return t

    @property
    def tables(self) -> list[Table]:
        return [
            self.customers_t, self.customers_h, self.orders_t, self.orders_h, self.items_t,
            self.items_h, self.tickets_t, self.tickets_h, self.clocks_t, self.messages_t,
            self.messages_h, self.tags_t, self.tags_h,
        ]


def generate_tickets(
    count: int,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    seed: int | None = None,
    now: datetime | None = None,
    customers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BulkResult:
    """Create `count` tickets with messages, tags and history, and customers for them.

    `customers` defaults to a fifth of `count` (at least MIN_CUSTOMERS); each gets one to
    three orders. `progress(done, total)` is called after every committed ticket batch.
    Needs the teams and at least one user with a working role (`seed_demo` loads them).
    """
    if count < 0 or batch_size < 1:
        raise ValueError("count must be >= 0 and batch_size >= 1")
    started = time.perf_counter()
    if seed is None:
        seed = secrets.randbits(32)
    generator = Generator(seed=seed, now=now or timezone.now(), batch_size=batch_size,
                          progress=progress)
    if count:
        if customers is None:
            customers = max(MIN_CUSTOMERS, int(count * CUSTOMERS_PER_TICKET))
        generator.run(count, max(customers, 1))
    counts = generator.counts
    return BulkResult(
        tickets=counts["tickets"], messages=counts["messages"], customers=counts["customers"],
        orders=counts["orders"], seconds=time.perf_counter() - started, seed=seed,
    )
