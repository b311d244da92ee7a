"""What each default rule means, in the words an agent uses with the customer.

Keyed by the rule's English name (unique in the default table). Each value is the Chinese and
the English explanation an agent sees beside an option: no rule numbers, no sources, no codes,
only what the customer gets and why, so it can be said as it stands. The wording follows the
seed documents (DOMAIN.md [000]-[004]) and the law the rule encodes; the sources stay on the
rule, for supervisors and QA.
"""

# name -> (Chinese, English)
PLAIN_EXPLANATIONS: dict[str, tuple[str, str]] = {
    # --- refund only ----------------------------------------------------------------------------
    "Cancel before shipment: automatic refund": (
        "订单还未发货，取消后货款会原路退回，无需寄回商品。",
        "The order has not shipped yet, so it can be cancelled and the payment goes back the way "
        "it was paid; nothing needs to be sent back."),
    "Frequent refunder review (refunds), refund only": (
        "近期退款次数较多，这笔退款需要风控同事复核后才能办理。",
        "There have been many refunds recently, so this refund is checked by our risk team "
        "before it is made."),
    "Frequent refunder review (disputes), refund only": (
        "近期售后纠纷较多，这笔退款需要风控同事复核后才能办理。",
        "There have been several disputes recently, so this refund is checked by our risk team "
        "before it is made."),
    "Advance payout, merchant silent 48 h": (
        "商家超过48小时未处理您的申请，平台先行赔付，直接为您退款。",
        "The merchant has not answered your request for 48 hours, so the platform pays you "
        "first and refunds you directly."),
    "Instant small refund, transport damage": (
        "商品在运输中破损且已提供照片或视频，金额较小，可直接为您退款，无需寄回。",
        "The item was damaged in transit and you sent a photo or video; as the amount is small "
        "we refund you straight away, with nothing to send back."),
    "Instant small refund": (
        "收货72小时内反馈问题并提供了照片或视频，金额较小，可直接为您退款，无需寄回。",
        "You reported the problem within 72 hours of delivery with a photo or video; as the "
        "amount is small we refund you straight away, with nothing to send back."),
    "Perishable arrived bad": (
        "生鲜商品到货有损坏或变质，签收48小时内凭照片或视频可直接退款，无需寄回。",
        "Fresh goods that arrive spoiled or damaged are refunded on a photo or video sent within "
        "48 hours of delivery, with nothing to send back."),
    "Parcel lost, carrier confirmed: refund": (
        "快递公司已确认包裹丢失，可以为您退款。",
        "The carrier has confirmed the parcel is lost, so we can refund you."),
    "Parcel lost, carrier silent 48 h: refund": (
        "包裹异常，快递公司48小时内未给出解决方案，可以先为您退款。",
        "The parcel is stuck and the carrier has not offered a solution within 48 hours, so we "
        "can refund you now."),
    "Unsafe food: refund": (
        "食品存在安全问题，凭照片、视频或检测报告可以为您退款。",
        "The food is unsafe; with a photo, video or test report we can refund you."),
    # --- return and refund: what the law excludes -----------------------------------------------
    "Custom-made: no no-reason return": (
        "定制商品不支持七天无理由退货；如有质量问题，可以按质量问题为您处理。",
        "Made-to-order goods cannot be returned without a reason; if there is a quality problem "
        "we can handle it as one."),
    "Perishable: no no-reason return": (
        "鲜活易腐商品不支持七天无理由退货；如到货有问题，可以按质量问题为您处理。",
        "Fresh and perishable goods cannot be returned without a reason; if they arrived bad we "
        "can handle it as a quality problem."),
    "Digital goods downloaded or unsealed: no no-reason return": (
        "已下载或已拆封的数字化商品不支持七天无理由退货。",
        "Digital goods that have been downloaded or unsealed cannot be returned without a "
        "reason."),
    "Delivered newspapers and periodicals: no no-reason return": (
        "已交付的报纸、期刊不支持七天无理由退货。",
        "Newspapers and periodicals already delivered cannot be returned without a reason."),
    "Confirmed non-returnable at purchase": (
        "购买时您已确认该商品不宜退货，因此不支持七天无理由退货；如有质量问题仍可为您处理。",
        "You confirmed when buying that this item is not returnable, so it cannot be returned "
        "without a reason; a quality problem is still handled."),
    "Hygiene seal broken: no no-reason return": (
        "一次性卫生密封包装拆封后，商品不再完好，不支持七天无理由退货。",
        "Once the one-time hygiene seal is broken the item is no longer intact and cannot be "
        "returned without a reason."),
    "No-reason return, item used or damaged": (
        "七天无理由退货需要商品完好；已使用或损坏的商品不能无理由退货。",
        "A no-reason return needs the item intact; a used or damaged item cannot be returned "
        "without a reason."),
    "No-reason window expired": (
        "签收已超过七天，无理由退货期限已过；如有质量问题，可以按质量问题为您处理。",
        "More than seven days have passed since delivery, so the no-reason return period is "
        "over; a quality problem can still be handled as one."),
    # --- return and refund: review and advance payout -------------------------------------------
    "Frequent refunder review (refunds), return": (
        "近期退款次数较多，这次退货退款需要风控同事复核后才能办理。",
        "There have been many refunds recently, so this return is checked by our risk team "
        "before it goes ahead."),
    "Frequent refunder review (disputes), return": (
        "近期售后纠纷较多，这次退货退款需要风控同事复核后才能办理。",
        "There have been several disputes recently, so this return is checked by our risk team "
        "before it goes ahead."),
    "Advance payout, merchant silent 48 h, return": (
        "商家超过48小时未处理您的申请，平台先行赔付：退回商品后为您退款。",
        "The merchant has not answered for 48 hours, so the platform steps in: send the item "
        "back and you are refunded."),
    "Advance payout, merchant silent 48 h, no-reason return": (
        "商家超过48小时未处理您的七天无理由退货申请，平台先行为您办理退货退款。",
        "The merchant has not answered your no-reason return for 48 hours, so the platform "
        "handles the return and refund for you."),
    "Flash refund when the return is shipped": (
        "七天无理由退货，商品完好且金额较小：您寄出退货并填写单号后即可退款。",
        "A no-reason return of an intact, low-priced item: you are refunded as soon as you send "
        "it back and give the tracking number."),
    "No-reason return with freight insurance": (
        "签收七天内、商品完好，可以七天无理由退货；订单有运费险，退货运费由保险承担。",
        "Within seven days of delivery and with the item intact, you may return it without a "
        "reason; the order's return-freight insurance pays the postage."),
    "No-reason return within 7 days": (
        "签收七天内、商品完好，可以七天无理由退货，退货运费由您承担。",
        "Within seven days of delivery and with the item intact, you may return it without a "
        "reason; the return postage is yours."),
    # --- return and refund: quality -------------------------------------------------------------
    "Quality defect within 72 h": (
        "签收72小时内反馈质量问题并提供了照片或视频，可以退货退款，运费由商家承担。",
        "You reported a quality problem within 72 hours of delivery with a photo or video, so "
        "you may return it for a refund; the merchant pays the postage."),
    "Quality defect with inspection report within 7 days": (
        "签收超过72小时但在七天内，凭第三方检测报告可以退货退款。",
        "More than 72 hours but within seven days of delivery, a third-party inspection report "
        "lets you return the item for a refund."),
    "Late quality claim without inspection report": (
        "签收已超过72小时且没有检测报告，退货退款需要资深客服审核；提供第三方检测报告可以直接办理。",
        "More than 72 hours after delivery and without an inspection report, the return needs a "
        "senior agent's approval; a third-party inspection report lets it go ahead directly."),
    "Quality defect, sign-off time unknown: return after review": (
        "无法确认签收时间，凭您提供的照片、视频或检测报告，由资深客服审核后办理退货退款。",
        "We cannot confirm when the parcel was signed for, so a senior agent reviews your photo, "
        "video or report before the return goes ahead."),
    "Refused at the door: damaged parcel": (
        "包裹破损，您当场拒收并拍了照片或视频，拒收后为您退款。",
        "The parcel was damaged and you refused it at the door with a photo or video, so you are "
        "refunded once it goes back."),
    "Refused at the door": (
        "您已拒收包裹，商品退回商家后为您退款。",
        "You refused the parcel; you are refunded once it is back with the merchant."),
    "False advertising: return": (
        "商品与宣传不符，凭截图、照片或聊天记录可以退货退款。",
        "The item is not what was advertised; with a screenshot, photo or chat record you may "
        "return it for a refund."),
    "Transport damage: return": (
        "商品在运输中破损，签收72小时内凭照片或视频可以退货退款。",
        "The item was damaged in transit; with a photo or video within 72 hours of delivery you "
        "may return it for a refund."),
    "Wrong item: return": (
        "发错了商品，签收七天内凭照片可以退货退款，运费由商家承担。",
        "You received the wrong item; with a photo within seven days of delivery you may return "
        "it for a refund, postage paid by the merchant."),
    "Not as described: return": (
        "商品与描述不符，签收七天内凭照片或截图可以退货退款。",
        "The item is not as described; with a photo or screenshot within seven days of delivery "
        "you may return it for a refund."),
    "Counterfeit confirmed: return and refund": (
        "检测报告确认是假货，可以退货退款。",
        "The inspection report confirms the item is counterfeit, so you may return it for a "
        "refund."),
    # --- exchange, repair, reissue, recall ------------------------------------------------------
    "Size or colour exchange within 7 days": (
        "服饰签收七天内、商品完好，可以换尺码或颜色。",
        "Clothing within seven days of delivery and intact can be exchanged for another size or "
        "colour."),
    "Quality defect within 72 h: exchange": (
        "签收72小时内反馈质量问题并提供了照片或视频，可以为您换一件新的。",
        "You reported a quality problem within 72 hours of delivery with a photo or video, so we "
        "can exchange it for a new one."),
    "三包 exchange within 15 days": (
        "三包商品签收15天内出现性能故障，凭检测报告可以换货。",
        "A product under the statutory warranty that fails within 15 days of delivery can be "
        "exchanged on an inspection report."),
    "Wrong item: exchange": (
        "发错了商品，签收七天内凭照片可以为您换成正确的商品。",
        "You received the wrong item; with a photo within seven days of delivery we send the "
        "right one in exchange."),
    "Repair within warranty": (
        "商品在保修期内，凭照片、视频或检测报告可以免费维修。",
        "The item is within its warranty, so it is repaired free of charge on a photo, video or "
        "inspection report."),
    "Transport damage: reissue": (
        "商品在运输中破损，签收72小时内凭照片或视频可以为您补发一件。",
        "The item was damaged in transit; with a photo or video within 72 hours of delivery we "
        "send you a new one."),
    "Missing item: reissue": (
        "收到的商品少件或漏发，签收72小时内凭照片、视频或物流凭证可以为您补发。",
        "Something was missing from the parcel; with a photo, video or delivery proof within 72 "
        "hours we send what is missing."),
    "Parcel lost, carrier confirmed: reissue": (
        "快递公司已确认包裹丢失，可以为您重新发货。",
        "The carrier has confirmed the parcel is lost, so we can send the goods again."),
    "Parcel lost, carrier silent 48 h: reissue": (
        "包裹异常，快递公司48小时内未给出解决方案，可以为您重新发货。",
        "The parcel is stuck and the carrier has not offered a solution within 48 hours, so we "
        "can send the goods again."),
    "Safety hazard: recall": (
        "商品存在安全隐患，将按召回处理，由风控法务同事确认后为您办理。",
        "The product has a safety hazard and is handled as a recall, confirmed by our risk and "
        "legal team."),
    # --- partial refund -------------------------------------------------------------------------
    "Minor flaw, customer keeps the item": (
        "商品有轻微瑕疵，如果您愿意保留商品，可以按商品金额的20%折价退款（最多200元）。",
        "The item has a minor flaw; if you keep it we refund 20 % of its price (at most "
        "¥200)."),
    "Minor flaw with inspection report, customer keeps the item": (
        "凭检测报告，如果您愿意保留有轻微瑕疵的商品，可以按商品金额的20%折价退款（最多200元）。",
        "With an inspection report, if you keep the item with its minor flaw we refund 20 % of "
        "its price (at most ¥200)."),
    "Transport damage assessed: refund the repair cost or depreciation": (
        "运输造成的损坏已定损，按维修费用或折旧金额为您退款，商品可以保留。",
        "The transport damage has been assessed; we refund the repair cost or the loss in value "
        "and you keep the item."),
    # --- compensation ---------------------------------------------------------------------------
    "Late shipment compensation": (
        "商家未按约定时间发货，按订单金额的10%给您补偿优惠券（5至30元）。",
        "The merchant shipped late, so you get a coupon of 10 % of the order (¥5 to ¥30)."),
    "Missed delivery promise, VIP": (
        "未按承诺时效送达，会员可获得10元优惠券补偿。",
        "The delivery promise was missed; as a member you get a ¥10 coupon."),
    "Missed delivery promise": (
        "未按承诺时效送达，给您5元优惠券补偿。",
        "The delivery promise was missed, so you get a ¥5 coupon."),
    "Missed delivery promise: points": (
        "未按承诺时效送达，给您500积分补偿。",
        "The delivery promise was missed, so you get 500 points."),
    "Refund delayed by the payment channel: points": (
        "退款因支付渠道处理延迟，给您200积分表示歉意。",
        "Your refund was held up by the payment channel, so you get 200 points as an apology."),
    "Out-of-stock compensation": (
        "商品缺货无法发货，按订单金额的10%给您补偿优惠券（5至30元）。",
        "The item is out of stock, so you get a coupon of 10 % of the order (¥5 to ¥30)."),
    "Counterfeit confirmed: statutory triple compensation": (
        "检测报告确认是假货，您可以依法要求退一赔三（商品价款的三倍，最低500元），由风控法务同事审核。",
        "The report confirms a counterfeit, so the law gives you three times the price (at "
        "least ¥500) on top of the refund; our risk and legal team approves it."),
    "Counterfeit claim awaiting appraisal: compensation": (
        "疑似假货，凭您提供的凭证可以先行补偿订单金额的30%，需投诉专员审核，最终以鉴定结果为准。",
        "A suspected counterfeit: with your evidence we can compensate 30 % of the order first, "
        "approved by a complaint specialist; the appraisal has the final word."),
    "Unsafe food: statutory tenfold compensation": (
        "检测报告确认食品不安全，您可以依法要求价款十倍的赔偿（最低1000元），由风控法务同事审核。",
        "The test report confirms the food is unsafe, so the law gives you ten times the price "
        "(at least ¥1,000); our risk and legal team approves it."),
    "False advertising: statutory triple compensation": (
        "虚假宣传已有证据，您可以依法要求退一赔三（商品价款的三倍，最低500元），由风控法务同事审核。",
        "The false advertising is proven, so the law gives you three times the price (at least "
        "¥500) on top of the refund; our risk and legal team approves it."),
    "VIP goodwill beyond warranty": (
        "商品已过保修期，作为会员关怀，经主管审核可给您订单金额10%的补偿（20至200元）。",
        "The item is out of warranty; as a goodwill gesture for members, a supervisor may approve "
        "10 % of the order (¥20 to ¥200)."),
    "VIP goodwill beyond warranty: extended warranty": (
        "商品已过保修期，作为会员关怀，经主管审核可为您延长保修6个月。",
        "The item is out of warranty; as a goodwill gesture for members, a supervisor may approve "
        "six more months of warranty."),
}
