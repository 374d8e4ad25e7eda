"""The demo workspace's document: a spring tea purchasing plan in the general channel, with
the usual rich-text nodes. Deterministic (fixed Yjs client id) and idempotent, as
``hub.signals.demo_workspace_created`` requires."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from pycrdt import Doc, XmlElement, XmlText

from docs_collab import actions, content, store
from docs_collab.models import Document
from hub.demo import STAFF, DemoData
from hub.models import Member
from hub.signals import demo_workspace_created

DEMO_TITLE = "2026 春茶采购计划"
_YJS_CLIENT_ID = 20260301  # the same bytes on every demo load


def _paragraph(text: str) -> XmlElement:
    return XmlElement("paragraph", {}, [XmlText(text)])


def demo_updates() -> list[bytes]:
    doc: Doc = Doc(client_id=_YJS_CLIENT_ID)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    fragment = content.fragment_of(doc)
    with doc.transaction():
        fragment.children.append(XmlElement("heading", {"level": "1"}, [XmlText(DEMO_TITLE)]))
        fragment.children.append(_paragraph("目标：明前龙井到货后两周内完成春茶礼盒备货。Owner: 王老板。"))
        fragment.children.append(XmlElement("heading", {"level": "2"}, [XmlText("待办")]))
        tasks = fragment.children.append(XmlElement("taskList"))
        for done, text in ((True, "确认冷库 B2 区容量"), (False, "竹韵包装：礼盒到货时间"), (False, "预售页面上线")):
            tasks.children.append(XmlElement("taskItem", {"checked": str(done).lower()}, [_paragraph(text)]))
        fragment.children.append(XmlElement("heading", {"level": "2"}, [XmlText("采购清单")]))
        table = fragment.children.append(XmlElement("table"))
        for cells, cell_tag in (
            (("品名", "数量", "单价"), "tableHeader"),
            (("明前龙井", "1.2 吨", "¥1,280/kg"), "tableCell"),
        ):
            row = table.children.append(XmlElement("tableRow"))
            for cell in cells:
                row.children.append(XmlElement(cell_tag, {}, [_paragraph(cell)]))
    return updates


@receiver(demo_workspace_created)
def add_demo_document(sender: Any, data: DemoData, **kwargs: Any) -> None:
    if Document.objects.filter(workspace=data.workspace, title=DEMO_TITLE).exists():
        return  # the demo already has it (the signal is also sent for an existing demo)
    owner = Member.objects.get(workspace=data.workspace, user=data.users[STAFF[0].key])
    conversation = data.conversations.get("general")
    # No card message: the demo conversations hold exactly their scripted messages.
    document = actions.do_create_document(owner, DEMO_TITLE, conversation, Document.Access.EDIT, post_card=False)
    store.append_batches(document.pk, [(owner.user_id, demo_updates())])
