"""Every history reason reads as words in the timeline and the audit trails, never as a code."""

import re
from pathlib import Path

import pytest

from supervision.selectors.reasons import HEAD_LABELS, KEY_LABELS, describe_reason

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.mark.parametrize(("reason", "label", "comment"), [
    ("transition:assign — routing", "Assign", "assigned by routing"),
    ("transition:assign — intake", "Assign", "taken by the agent who took the call"),
    ("transition:assign — claimed by replying", "Assign", "claimed by replying"),
    ("transition:assign — claim next", "Assign", "took the next ticket"),
    ("transition:approve — within policy", "Approve", "within policy, approved automatically"),
    ("transition:close — no objection in time", "Close", "no objection in time"),
    ("transition:cancel — duplicate of CS20261201-000002", "Cancel",
     "duplicate of CS20261201-000002"),
    ("transition:review — automatic retries used up", "Take into manual review",
     "automatic retries used up"),
    ("sla:first_response_reminder", "Reminder: first response due soon", ""),
    ("sla:resolution_breached", "Resolution deadline passed", ""),
    ("sla:priority_raised", "Priority raised: waiting too long", ""),
    ("return:shipped — 圆通速递 YT6620077120", "Customer shipped the return parcel",
     "圆通速递 YT6620077120"),
    ("attach:photo", "Attachment added", "Photo"),
    ("create:phone", "Created", "Phone hotline"),
    ("message:note", "Message added", "Internal note"),
    ("merge:CS1->CS2", "Moved by a merge", "CS1 → CS2"),
    ("claim:replying", "Claimed by replying", ""),
    ("payout:reserve", "Payout amount reserved", ""),
    ("bulk:create", "Created", ""),
    ("tags", "Tags changed", ""),
    ("customer:update — 客户来电更正地址", "Customer record updated", "客户来电更正地址"),
    ("propose:no_such_kind", "Resolution proposed", ""),
    ("transition:no_such_step", "Status changed", ""),
    ("made_up_key:value — 备注", "Changed", "备注"),
    ("", "Changed", ""),
])
def test_reason_keys_read_as_words(reason, label, comment):
    assert describe_reason(reason) == (label, comment)


# reason="head:…" / reason=f"head:…" / reason="head" literals in the services.
_LITERAL = re.compile(r"""reason=f?["']([a-z_ ]+)(:[a-z_]*)?""")


def _written_reason_keys() -> set[str]:
    keys = set()
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or "migrations" in path.parts:
            continue
        for head, arg in _LITERAL.findall(path.read_text(encoding="utf-8")):
            keys.add(head + arg)
    return keys


def test_every_reason_key_the_code_writes_has_a_label():
    keys = _written_reason_keys()
    assert "sla:first_response_reminder" in keys  # the scan finds the services' keys
    # "transition", "escalate", "priority", "qa", "propose" are read with their argument.
    read_with_argument = {"transition", "escalate", "priority", "qa", "propose"}
    unknown = sorted(
        key for key in keys
        if key not in KEY_LABELS and key.partition(":")[0] not in HEAD_LABELS
        and key.partition(":")[0] not in read_with_argument
    )
    assert unknown == []
