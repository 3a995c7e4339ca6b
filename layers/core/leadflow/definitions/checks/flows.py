"""Flows: references (campaign, trigger, templates, conditions) and the step graph.

The graph rules: every successor names a step of the same flow or ``end``; every step can be
reached from the first (an unreachable step is an error: it is dead text that looks alive);
no cycle runs without a ``wait`` or ``wait_for`` in it (it would spin forever, ``goto`` included);
a ``wait_for.of_step`` names a ``send_email`` step that comes before it; and a keyed wait
(``wait_for.same``) needs an activity trigger, whose activity holds the key values.
"""

from __future__ import annotations

from leadflow.definitions.activities import EMAIL_ACTIVITIES
from leadflow.definitions.base import END
from leadflow.definitions.campaigns import CampaignKind
from leadflow.definitions.checks.context import Checker
from leadflow.definitions.checks.references import check_condition
from leadflow.definitions.flows import Flow
from leadflow.definitions.steps import (
    AddToCrmCampaignStep,
    AddToListStep,
    BranchStep,
    SendEmailStep,
    WaitForStep,
)
from leadflow.definitions.triggers import (
    ActivityTrigger,
    CrmMemberStatusTrigger,
    FormSubmittedTrigger,
    ListJoinedTrigger,
)


def check_flows(checker: Checker) -> None:
    for index, flow in enumerate(checker.bundle.flows):
        at = checker.at("flows", index)
        if flow.campaign is not None:
            checker.campaign(f"{at}.campaign", flow.campaign, CampaignKind.MA)
        _check_trigger(checker, f"{at}.trigger", flow)
        if flow.exit_when is not None:
            check_condition(checker, f"{at}.exit_when", flow.exit_when)
        _check_steps(checker, at, flow)


def _check_trigger(checker: Checker, at: str, flow: Flow) -> None:
    match flow.trigger:
        case FormSubmittedTrigger(form_submitted=form_id):
            checker.form(f"{at}.form_submitted", form_id)
        case ListJoinedTrigger(list_joined=list_id):
            checker.contact_list(f"{at}.list_joined", list_id)
        case CrmMemberStatusTrigger(crm_member_status=target):
            path = f"{at}.crm_member_status"
            campaign = checker.campaign(f"{path}.campaign", target.campaign, CampaignKind.CRM)
            checker.member_status(f"{path}.status", campaign, target.status)
        case ActivityTrigger(activity=condition):
            check_condition(checker, f"{at}.activity", condition)
        case _:
            pass


def _check_steps(checker: Checker, at: str, flow: Flow) -> None:
    first_index: dict[str, int] = {}
    for index, step in enumerate(flow.steps):
        path = f"{at}.steps[{index}]"
        if step.id in first_index:
            checker.add(f"{path}.id", f'duplicate step id "{step.id}" (also steps[{first_index[step.id]}])')
            continue
        first_index[step.id] = index
    graph_ok = True
    for index, step in enumerate(flow.steps):
        path = f"{at}.steps[{index}]"
        for exit_path, target in step.exits():
            if target is not None and target != END and target not in first_index:
                checker.add(f"{path}.{exit_path}", f'unknown step "{target}"')
                graph_ok = False
    graph_ok = graph_ok and len(first_index) == len(flow.steps)
    for index, step in enumerate(flow.steps):
        path = f"{at}.steps[{index}]"
        match step:
            case SendEmailStep(send_email=send):
                checker.template(f"{path}.send_email.template", send.template)
            case WaitForStep(wait_for=wait_for):
                if wait_for.of_step is not None:
                    _check_of_step(checker, f"{path}.wait_for", flow, step, graph_ok=graph_ok)
                if wait_for.same is not None and not isinstance(flow.trigger, ActivityTrigger):
                    checker.add(
                        f"{path}.wait_for.same",
                        f"a keyed wait compares with the activity that enrolled the contact; this flow's "
                        f"trigger is {flow.trigger.kind}, which has none: use an activity trigger",
                    )
            case BranchStep(branch=branch):
                check_condition(checker, f"{path}.branch.if", branch.if_)
                if branch.if_.tests_activity:
                    checker.add(
                        f"{path}.branch.if",
                        f"a branch tests the contact as it is now, not an activity "
                        f"({', '.join(branch.if_.activity_keys_set)}): wait for it with wait_for",
                    )
            case AddToListStep(add_to_list=list_id):
                checker.contact_list(f"{path}.add_to_list", list_id, static=True)
            case AddToCrmCampaignStep(add_to_crm_campaign=membership):
                where = f"{path}.add_to_crm_campaign"
                campaign = checker.campaign(f"{where}.campaign", membership.campaign, CampaignKind.CRM)
                checker.member_status(f"{where}.status", campaign, membership.status)
            case _:
                pass
    if graph_ok:
        _check_reachable(checker, at, flow)
        _check_loops(checker, at, flow)


def _check_of_step(checker: Checker, at: str, flow: Flow, step: WaitForStep, *, graph_ok: bool) -> None:
    activity, of_step = step.wait_for.activity, step.wait_for.of_step
    assert of_step is not None
    if activity not in EMAIL_ACTIVITIES:
        checker.add(f"{at}.of_step", f"of_step only applies to email activities, not {activity}")
        return
    target = flow.step(of_step)
    if target is None:
        checker.add(f"{at}.of_step", f'unknown step "{of_step}"')
    elif not isinstance(target, SendEmailStep):
        checker.add(f"{at}.of_step", f'"{of_step}" is a {target.kind} step; of_step names a send_email step')
    elif graph_ok and step.id not in _reached_from(flow, of_step):
        checker.add(
            f"{at}.of_step",
            f'"{of_step}" does not come before this step: no path leads from it to "{step.id}"',
        )


def _reached_from(flow: Flow, start: str) -> set[str]:
    """Every step id reachable in one or more moves from ``start``."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        step = flow.step(todo.pop())
        assert step is not None
        for successor in flow.successors(step):
            if successor != END and successor not in seen:
                seen.add(successor)
                todo.append(successor)
    return seen


def _check_reachable(checker: Checker, at: str, flow: Flow) -> None:
    seen = {flow.first_step.id}
    todo = [flow.first_step.id]
    while todo:
        step = flow.step(todo.pop())
        assert step is not None
        for successor in flow.successors(step):
            if successor != END and successor not in seen:
                seen.add(successor)
                todo.append(successor)
    for index, step in enumerate(flow.steps):
        if step.id not in seen:
            checker.add(f"{at}.steps[{index}]", f'step "{step.id}" is never reached: no step leads to it')


def _check_loops(checker: Checker, at: str, flow: Flow) -> None:
    """Find cycles among steps that do not wait, by depth-first search; report each closing move once."""
    index_of = {step.id: index for index, step in enumerate(flow.steps)}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(step_id: str, trail: list[str]) -> None:
        state[step_id] = 1
        step = flow.step(step_id)
        assert step is not None
        for exit_path, named in step.exits():
            successor = flow.successor(step, named)
            if successor == END:
                continue
            target = flow.step(successor)
            assert target is not None
            if target.waits:
                continue
            if state.get(successor) == 1:
                route = " -> ".join([*trail[trail.index(successor) :], successor])
                where = f"{at}.steps[{index_of[step_id]}]" + (f".{exit_path}" if named is not None else "")
                checker.add(where, f"endless loop without a wait: {route}")
            elif successor not in state:
                visit(successor, [*trail, successor])
        state[step_id] = 2

    for step in flow.steps:
        if not step.waits and step.id not in state:
            visit(step.id, [step.id])
