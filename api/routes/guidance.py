"""Decision guidance (issue 11 point 15): the handler answers the practitioners' questions for one item and gets
the proposed outcome with its draft reasons and legal basis (guidance/, pure). Nothing is proposed here: the
handler edits the draft and proposes it through POST /{application_id}/decisions."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import ConfigDict, Field

from api.deps import ApplicationId, ClientDep, READERS, live_view, not_found
from api.security import sees_department
from db.models_security import StaffUser
from guidance import QUESTIONS, Answers, Guidance, propose
from guidance.rules import Question

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])

# Reg. 29, 40: the applicant's requested form, as the provision sentence names it.
REQUESTED_FORM = {"email": "电子邮件", "post": "邮寄纸质件", "pickup": "到本机关领取纸质件", "portal": "网站下载",
                  "disc": "光盘", "inspection": "现场查阅"}


class GuidanceRequest(Answers):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    item_no: int = Field(ge=1, description="the item the answers are about")


class ItemGuidance(Guidance):
    item_no: int
    item_description: str


@router.get("/{application_id}/guidance", response_model=list[Question])
async def guidance_questions(application_id: ApplicationId, client: ClientDep,
                             user: Annotated[StaffUser, READERS]) -> list[Question]:
    """The questions in the order asked (补不补, 是不是, 谁负责, 有没有, 给不给, 怎么给), with their choices and articles."""
    view = await live_view(client, application_id)
    if not sees_department(user, view.department):
        raise not_found(application_id)
    return list(QUESTIONS)


@router.post("/{application_id}/guidance", response_model=ItemGuidance,
             responses={404: {"description": "没有该申请"}, 422: {"description": "没有该事项或答案不符合要求"}})
async def guide_decision(application_id: ApplicationId, body: GuidanceRequest, client: ClientDep,
                         user: Annotated[StaffUser, READERS]) -> ItemGuidance:
    """Answers for one item → the next question to answer, or the proposed outcome, reasons and legal basis (怎么答).

    A draft only: the handler may edit it before proposing it (POST …/decisions), whose checks still apply."""
    view = await live_view(client, application_id)
    if not sees_department(user, view.department):
        raise not_found(application_id)
    item = next((i for i in view.items if i.item_no == body.item_no), None)
    if item is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"本申请没有第 {body.item_no} 项（共 {len(view.items)} 项）")
    answers = Answers.model_validate(body.model_dump(exclude={"item_no"}))
    proposal = propose(answers, requested_form=REQUESTED_FORM.get(view.delivery_method, view.delivery_method))
    return ItemGuidance(item_no=item.item_no, item_description=item.description, **proposal.model_dump())
