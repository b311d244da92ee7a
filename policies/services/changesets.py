"""Four-eyes changes to the rule table and the approval limits: draft, submit, approve, publish.

A supervisor's edit of a rule or a limit never touches the live row: it becomes an item of their
draft change set, holding the row's values before and after and the row's history id when
drafted (its base version). A second person approves the submitted set, never its author; a set
that changes an approval limit needs a supervisor *and* risk/legal. Publishing applies every item
in one transaction, with the change set and the rows locked, and refuses when a row changed since
it was drafted. A published set is rolled back by a new change set that restores the values
before, approved like any other.

Items are written generically over the editable columns of PolicyRule and ApprovalLimit, so a
column added to either model is drafted, compared, published and rolled back without changes here.
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.models.roles import Role
from core.models.user import User
from core.services.audit import delete_with_history, history_model_of, save_with_history
from core.services.exceptions import Conflict
from notifications.services import delivery as notifications
from policies import engine
from policies.models import (
    LIST_CHOICES,
    ApprovalLimit,
    ChangeAction,
    ChangeSetState,
    PolicyChangeApproval,
    PolicyChangeItem,
    PolicyChangeSet,
    PolicyRule,
)
from policies.services import rulebook

CS = ChangeSetState
RULE_ACTIONS = (ChangeAction.CREATE_RULE, ChangeAction.UPDATE_RULE, ChangeAction.DEACTIVATE_RULE)
# Roles whose members may approve a change set (with approve_policychangeset).
APPROVING_ROLES = (Role.SUPERVISOR, Role.RISK_LEGAL)
# A set that changes an approval limit needs one approval in each of these roles.
LIMIT_APPROVING_ROLES = (Role.SUPERVISOR, Role.RISK_LEGAL)


# --- values of a row, as JSON -------------------------------------------------------------------

def editable_fields(model: type[models.Model]) -> list[models.Field]:
    """Return the columns a change set may change: editable, concrete, not the key.

    An approval limit's role is what identifies it, so it is not among them.
    """
    found = [field for field in model._meta.concrete_fields
             if field.editable and not field.primary_key]
    if model is ApprovalLimit:
        found = [field for field in found if field.name != "role"]
    return found


def _as_json(field: models.Field, value: Any) -> Any:
    """Return one value as JSON, written one way only, so equal values compare equal."""
    if isinstance(value, Decimal) and isinstance(field, models.DecimalField):
        return str(value.quantize(Decimal(1).scaleb(-(field.decimal_places or 0))))
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()  # the same instant, the same text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value)
    if isinstance(value, list) and field.name in LIST_CHOICES:
        return sorted(value)  # a multiple choice: the order it was ticked in is no change
    return value


def values_of(obj: models.Model) -> dict[str, Any]:
    """Return the row's editable values as JSON (money as strings, times in ISO 8601, UTC)."""
    return {field.name: _as_json(field, field.value_from_object(obj))
            for field in editable_fields(type(obj))}


def python_values(model: type[models.Model], values: Mapping[str, Any]) -> dict[str, Any]:
    """Return JSON values (values_of) as the model's Python values, field by field."""
    fields = {field.name: field for field in editable_fields(model)}
    result = {}
    for name, value in values.items():
        field = fields.get(name)
        if field is None:
            continue  # a column dropped since the draft: nothing to apply
        result[name] = value if isinstance(field, models.JSONField) else field.to_python(value)
    return result


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Return the names of the fields whose value differs, in the model's order."""
    return [name for name in after if before.get(name) != after[name]]


def diff(item: PolicyChangeItem) -> list[tuple[str, str, Any, Any]]:
    """Return (field name, label, before, after) of each field the item changes."""
    model = PolicyRule if item.action in RULE_ACTIONS else ApprovalLimit
    labels = {field.name: str(field.verbose_name) for field in editable_fields(model)}
    return [(name, labels.get(name, name), item.before.get(name), item.after[name])
            for name in changed_fields(item.before, item.after)]


def latest_version(obj: models.Model) -> int | None:
    """Return the newest history id of the row (its version), or None without history."""
    history = history_model_of(type(obj))
    version: int | None = history.objects.filter(id=obj.pk).aggregate(
        version=Max("history_id"))["version"]
    return version


# --- drafting ------------------------------------------------------------------------------------

def _require_drafter(actor: User) -> None:
    if not actor.has_perm("policies.change_policychangeset"):
        raise PermissionDenied(_("You may not draft changes to the rule table."))


def _draft_of(actor: User) -> PolicyChangeSet:
    """Return the actor's open draft, locked, or a new one."""
    draft = (PolicyChangeSet.objects.select_for_update()
             .filter(author=actor, state=CS.DRAFT).order_by("-id").first())
    if draft is None:
        draft = PolicyChangeSet(author=actor)
        save_with_history(draft, actor=actor, reason="changeset:create")
    return draft


def _validated(model: type[models.Model], values: Mapping[str, Any], *,
               instance: models.Model | None = None) -> dict[str, Any]:
    """Return the values as JSON after the model's own validation passed on them."""
    candidate = model()
    if instance is not None:
        for field in model._meta.concrete_fields:
            setattr(candidate, field.attname, getattr(instance, field.attname))
    for name, value in python_values(model, values).items():
        setattr(candidate, name, value)
    # Uniqueness is the publication's business (a limit's role never changes here).
    candidate.full_clean(validate_unique=False, validate_constraints=False)
    return values_of(candidate)


def _save_item(item: PolicyChangeItem, actor: User) -> PolicyChangeItem:
    if not changed_fields(item.before, item.after):
        if item.pk:  # edited back to the live values: nothing left to change
            delete_with_history(item, actor=actor, reason="changeset:remove")
        raise ValidationError(_("This changes nothing: the values are those of the live row."))
    save_with_history(item, actor=actor, reason="changeset:draft")
    return item


def _item_for(draft: PolicyChangeSet, *, rule: PolicyRule | None = None,
              limit: ApprovalLimit | None = None) -> PolicyChangeItem | None:
    return draft.items.filter(rule=rule, limit=limit).first() if (rule or limit) else None


@transaction.atomic
def propose_rule(*, actor: User, rule: PolicyRule | None,
                 values: Mapping[str, Any]) -> PolicyChangeItem:
    """Put a new rule (rule None) or an edit of a rule into the actor's draft change set.

    `values`: the rule's editable fields (Python or JSON values). A second edit of the same
    rule in the same draft replaces the first; the base version stays that of the first.
    """
    _require_drafter(actor)
    after = _validated(PolicyRule, values, instance=rule)
    draft = _draft_of(actor)
    item = _item_for(draft, rule=rule)
    if item is None:
        item = PolicyChangeItem(change_set=draft, rule=rule)
        if rule is not None:
            item.before = values_of(rule)
            item.base_version = latest_version(rule)
    item.after = after
    if rule is None:
        item.action = ChangeAction.CREATE_RULE
    elif item.after.get("is_active") is False and item.before.get("is_active") is True \
            and changed_fields(item.before, item.after) == ["is_active"]:
        item.action = ChangeAction.DEACTIVATE_RULE
    else:
        item.action = ChangeAction.UPDATE_RULE
    return _save_item(item, actor)


@transaction.atomic
def propose_deactivation(*, actor: User, rules: Iterable[PolicyRule]) -> int:
    """Put the retirement of each active rule into the actor's draft; return how many."""
    count = 0
    for rule in rules:
        if rule.is_active:
            propose_rule(actor=actor, rule=rule, values={**values_of(rule), "is_active": False})
            count += 1
    return count


@transaction.atomic
def propose_copies(*, actor: User, rules: Iterable[PolicyRule]) -> int:
    """Put an inactive copy of each rule, named "(copy)", into the actor's draft."""
    count = 0
    for rule in rules:
        values = values_of(rule)
        values.update(name=f"{rule.name} (copy)",
                      name_zh=f"{rule.name_zh}（副本）" if rule.name_zh else "", is_active=False)
        propose_rule(actor=actor, rule=None, values=values)
        count += 1
    return count


@transaction.atomic
def propose_limit(*, actor: User, limit: ApprovalLimit,
                  values: Mapping[str, Any]) -> PolicyChangeItem:
    """Put an edit of an approval limit into the actor's draft change set."""
    _require_drafter(actor)
    after = _validated(ApprovalLimit, values, instance=limit)
    draft = _draft_of(actor)
    item = _item_for(draft, limit=limit) or PolicyChangeItem(
        change_set=draft, limit=limit, action=ChangeAction.UPDATE_LIMIT,
        before=values_of(limit), base_version=latest_version(limit))
    item.after = after
    return _save_item(item, actor)


def _locked_own_draft(change_set: PolicyChangeSet, actor: User) -> PolicyChangeSet:
    locked = PolicyChangeSet.objects.select_for_update().get(pk=change_set.pk)
    if locked.author_id != actor.pk:
        raise PermissionDenied(_("Only the author changes a draft change set."))
    if locked.state != CS.DRAFT:
        raise Conflict(_("This change set is no longer a draft."), code="not_draft")
    return locked


@transaction.atomic
def remove_item(*, actor: User, item: PolicyChangeItem) -> None:
    """Take one change out of the actor's draft."""
    _require_drafter(actor)
    _locked_own_draft(item.change_set, actor)
    delete_with_history(item, actor=actor, reason="changeset:remove")


@transaction.atomic
def submit(*, actor: User, change_set: PolicyChangeSet, title: str = "",
           effective_at: datetime | None = None) -> PolicyChangeSet:
    """Send the draft for approval, to go live when approved or at `effective_at`."""
    _require_drafter(actor)
    locked = _locked_own_draft(change_set, actor)
    if not locked.items.exists():
        raise ValidationError(_("An empty change set cannot be submitted."))
    now = timezone.now()
    if effective_at is not None and effective_at <= now:
        raise ValidationError({"effective_at": _("The effective time must be in the future.")})
    if title:
        locked.title = title
    locked.submit(at=now, effective_at=effective_at)
    save_with_history(locked, actor=actor, reason="changeset:submit")
    _tell_approvers(locked)
    return locked


def _approvers_of(change_set: PolicyChangeSet) -> list[User]:
    """Return the active people who may approve the submitted set: not its author, in a role
    it needs, with the permission to approve change sets."""
    roles = LIMIT_APPROVING_ROLES if needs_both_roles(change_set) else APPROVING_ROLES
    candidates = (User.objects.filter(is_active=True, groups__name__in=roles)
                  .exclude(pk=change_set.author_id).distinct())
    return [user for user in candidates
            if user.has_perm("policies.approve_policychangeset")]


def _tell_approvers(change_set: PolicyChangeSet) -> None:
    """Tell whoever may approve the set that it waits for them, linked to its approval page."""
    link = reverse("admin:policies_policychangeset_change", args=[change_set.pk])
    with translation.override(settings.LANGUAGE_CODE):
        author = str(change_set.author)
    notifications.notify_many([
        notifications.Notification(
            template="policies.change_set_submitted", channel="internal", user=user,
            context={"change_set": change_set.pk, "title": change_set.title or "—",
                     "author": author, "items": change_set.items.count(), "link": link},
            dedupe_key=f"change-set-submitted:{change_set.pk}:{user.pk}",
        )
        for user in _approvers_of(change_set)
    ])


# --- approving -----------------------------------------------------------------------------------

def needs_both_roles(change_set: PolicyChangeSet) -> bool:
    """Return True if the set changes an approval limit (a supervisor and risk/legal approve)."""
    return change_set.items.filter(action=ChangeAction.UPDATE_LIMIT).exists()


def missing_roles(change_set: PolicyChangeSet, given: Iterable[str]) -> list[str]:
    """Return the roles still to approve: any one of APPROVING_ROLES, or each for limits."""
    given = set(given)
    if needs_both_roles(change_set):
        return [role for role in LIMIT_APPROVING_ROLES if role not in given]
    return [] if given else list(APPROVING_ROLES)


def approving_role(change_set: PolicyChangeSet, user: User,
                   given: Iterable[str] = ()) -> str | None:
    """Return the role in which the user may approve the set now, or None."""
    if not user.has_perm("policies.approve_policychangeset") or user.pk == change_set.author_id:
        return None
    for role in missing_roles(change_set, given):
        if role in user.role_names:
            return str(role)
    return None


@transaction.atomic
def approve(*, actor: User, change_set: PolicyChangeSet) -> PolicyChangeSet:
    """Approve a submitted set; the last approval it needs publishes it (or schedules it)."""
    locked = PolicyChangeSet.objects.select_for_update().get(pk=change_set.pk)
    if not actor.has_perm("policies.approve_policychangeset"):
        raise PermissionDenied(_("You may not approve changes to the rule table."))
    if locked.author_id == actor.pk:
        raise PermissionDenied(_("Whoever drafted a change set cannot also approve it."))
    if locked.state != CS.SUBMITTED:
        raise Conflict(_("This is not possible while the change set is %(state)s.")
                       % {"state": locked.get_state_display()}, code="transition_not_allowed")
    approvals = list(locked.approvals.all())
    if any(approval.approver_id == actor.pk for approval in approvals):
        raise Conflict(_("You have already approved this change set."), code="already_approved")
    role = approving_role(locked, actor, [approval.role for approval in approvals])
    if role is None:
        raise PermissionDenied(
            _("This change set needs approval by %(roles)s; your role is not among them.")
            % {"roles": ", ".join(str(Role(r).label) for r in
                                  missing_roles(locked, [a.role for a in approvals]))})
    now = timezone.now()
    approval = PolicyChangeApproval(change_set=locked, approver=actor, role=role, approved_at=now)
    save_with_history(approval, actor=actor, reason=f"changeset:approve:{role}")
    approvals.append(approval)
    if missing_roles(locked, [a.role for a in approvals]):
        return locked  # waits for the other role
    locked.approve()
    save_with_history(locked, actor=actor, reason="changeset:approve")
    if locked.effective_at is None or locked.effective_at <= now:
        _publish(locked, actor=actor, at=now)
    else:
        _require_current_bases(locked)  # refused now rather than silently at its time
    return locked


@transaction.atomic
def reject(*, actor: User, change_set: PolicyChangeSet, reason: str) -> PolicyChangeSet:
    """Refuse a submitted set (or withdraw one's own), with a reason; nothing is applied."""
    locked = PolicyChangeSet.objects.select_for_update().get(pk=change_set.pk)
    if locked.author_id != actor.pk and not actor.has_perm("policies.approve_policychangeset"):
        raise PermissionDenied(_("You may not reject changes to the rule table."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the change set is rejected.")})
    if locked.state != CS.SUBMITTED:
        raise Conflict(_("This is not possible while the change set is %(state)s.")
                       % {"state": locked.get_state_display()}, code="transition_not_allowed")
    locked.reject(by=actor, at=timezone.now(), reason=reason.strip())
    save_with_history(locked, actor=actor, reason="changeset:reject")
    return locked


# --- publishing ----------------------------------------------------------------------------------

def history_reason(change_set: PolicyChangeSet) -> str:
    """Return the reason written on every row the set changes: the set, its author, approvers."""
    approvers = ", ".join(approval.approver.get_username()
                          for approval in change_set.approvals.select_related("approver"))
    return (f"changeset:{change_set.pk} — author {change_set.author.get_username()}; "
            f"approved by {approvers}")


def _stale(item: PolicyChangeItem, row: models.Model) -> Conflict:
    return Conflict(
        _("%(row)s was changed (version %(now)s) after this change set was drafted from version "
          "%(base)s. Nothing was published; reject the set and draft the change again.")
        % {"row": row, "now": latest_version(row), "base": item.base_version},
        code="stale_base",
    )


def _require_current_bases(change_set: PolicyChangeSet) -> None:
    """Refuse (stale_base) if a row of the set changed since it was drafted."""
    for item in change_set.items.select_related("rule", "limit").exclude(
            action=ChangeAction.CREATE_RULE):
        row: models.Model = item.rule or item.limit  # type: ignore[assignment]
        if latest_version(row) != item.base_version:
            raise _stale(item, row)


def _publish(change_set: PolicyChangeSet, *, actor: User | None, at: datetime) -> None:
    """Apply every item of the locked, approved set; all or nothing."""
    items = list(change_set.items.order_by("id"))
    rule_ids = sorted(item.rule_id for item in items if item.rule_id)
    limit_ids = sorted(item.limit_id for item in items if item.limit_id)
    # Row locks in id order, so two publications touching the same rows cannot deadlock.
    rules = {rule.pk: rule for rule in
             PolicyRule.objects.select_for_update().filter(pk__in=rule_ids).order_by("pk")}
    limits = {limit.pk: limit for limit in
              ApprovalLimit.objects.select_for_update().filter(pk__in=limit_ids).order_by("pk")}
    reason = history_reason(change_set)
    for item in items:
        row: models.Model
        if item.action == ChangeAction.CREATE_RULE:
            row = PolicyRule(**python_values(PolicyRule, item.after))
        else:
            row = rules[item.rule_id] if item.rule_id else limits[item.limit_id or 0]
            if latest_version(row) != item.base_version:
                raise _stale(item, row)
            for name, value in python_values(type(row), {
                    name: item.after[name]
                    for name in changed_fields(item.before, item.after)}).items():
                setattr(row, name, value)
        row.full_clean(validate_constraints=False)
        save_with_history(row, actor=actor, reason=reason)
        if item.action == ChangeAction.CREATE_RULE:
            item.rule = row  # type: ignore[assignment]
        item.applied_version = latest_version(row)
        save_with_history(item, actor=actor, reason="changeset:publish")
    change_set.publish(at=at)
    save_with_history(change_set, actor=actor, reason="changeset:publish")
    if change_set.rollback_of_id:
        rolled_back = PolicyChangeSet.objects.select_for_update().get(pk=change_set.rollback_of_id)
        rolled_back.roll_back()
        save_with_history(rolled_back, actor=actor, reason=f"changeset:rolled_back:{change_set.pk}")


@transaction.atomic
def publish(*, change_set_id: int, actor: User | None = None) -> PolicyChangeSet:
    """Publish an approved set now (the schedule calls this at its effective time)."""
    locked = PolicyChangeSet.objects.select_for_update().get(pk=change_set_id)
    if locked.state != CS.APPROVED:
        raise Conflict(_("This is not possible while the change set is %(state)s.")
                       % {"state": locked.get_state_display()}, code="transition_not_allowed")
    _publish(locked, actor=actor, at=timezone.now())
    return locked


@transaction.atomic
def record_publish_error(*, change_set_id: int, error: str) -> None:
    """Keep why a scheduled publication was refused, for the approvers to see."""
    locked = PolicyChangeSet.objects.select_for_update().get(pk=change_set_id)
    if locked.publish_error != error:
        locked.publish_error = error
        save_with_history(locked, actor=None, reason="changeset:publish_refused")


def due_change_sets(at: datetime | None = None) -> list[int]:
    """Return the ids of approved sets whose effective time has come."""
    return list(PolicyChangeSet.objects.filter(
        state=CS.APPROVED, effective_at__lte=at or timezone.now(),
    ).order_by("effective_at", "id").values_list("id", flat=True))


# --- rolling back --------------------------------------------------------------------------------

@transaction.atomic
def roll_back(*, actor: User, change_set: PolicyChangeSet) -> PolicyChangeSet:
    """Create (submitted) the change set that undoes a published one; it needs approval too.

    New rules are deactivated (decisions cite them, so rules are never deleted); edited rows
    get their values before back. A row changed since the publication is not silently undone:
    the rollback is refused and the row must be changed by a new draft.
    """
    _require_drafter(actor)
    locked = PolicyChangeSet.objects.select_for_update().get(pk=change_set.pk)
    if locked.state != CS.PUBLISHED:
        raise Conflict(_("Only a published change set can be rolled back."), code="not_published")
    if locked.rollbacks.exclude(state=CS.REJECTED).exists():
        raise Conflict(_("A rollback of this change set is already under way."),
                       code="rollback_exists")
    now = timezone.now()
    rollback = PolicyChangeSet(
        author=actor, rollback_of=locked,
        title=_("Rollback of change set #%(id)s") % {"id": locked.pk})
    save_with_history(rollback, actor=actor, reason=f"changeset:rollback:{locked.pk}")
    for item in locked.items.select_related("rule", "limit").order_by("id"):
        row: models.Model = item.rule or item.limit  # type: ignore[assignment]
        if latest_version(row) != item.applied_version:
            raise Conflict(
                _("%(row)s changed after change set #%(id)s was published; draft its change "
                  "by hand.") % {"row": row, "id": locked.pk}, code="stale_base")
        current = values_of(row)
        if item.action == ChangeAction.CREATE_RULE:
            after, action = {**current, "is_active": False}, ChangeAction.DEACTIVATE_RULE
        else:
            after = {**current, **{name: item.before[name]
                                   for name in changed_fields(item.before, item.after)
                                   if name in item.before}}
            action = ChangeAction.UPDATE_LIMIT if item.limit_id else ChangeAction.UPDATE_RULE
        undo = PolicyChangeItem(change_set=rollback, action=action, rule=item.rule,
                                limit=item.limit, before=current, after=after,
                                base_version=item.applied_version)
        if changed_fields(undo.before, undo.after):
            save_with_history(undo, actor=actor, reason="changeset:draft")
    rollback.submit(at=now, effective_at=None)
    save_with_history(rollback, actor=actor, reason="changeset:submit")
    _tell_approvers(rollback)
    return rollback


# --- the table as it would be --------------------------------------------------------------------

def draft_table(change_set: PolicyChangeSet) -> list[engine.Rule]:
    """Return the live rules with the set's rule items applied, as the engine's Rules.

    For the backtest: nothing is written. A new rule gets the negative id of its item, so it
    cannot be mistaken for a live rule; a changed rule keeps its id with version 0 (a draft).
    """
    rules = {rule.id: rule for rule in rulebook.load_rules()}
    for item in change_set.items.filter(action__in=RULE_ACTIONS).order_by("id"):
        row = PolicyRule(**python_values(PolicyRule, item.after))
        row.pk = item.rule_id if item.rule_id else -item.pk
        rules[row.pk] = rulebook.rule_from_row(row, 0)
    return sorted(rules.values(), key=lambda rule: (rule.priority, rule.id))
