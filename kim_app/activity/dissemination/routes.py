"""Views of information to spread: the operator's list, form and item (who relayed it, where,
how far), the KIM's list and item (the WhatsApp hand-off and the confirmation), and the file."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from kim_app.activity import bp
from kim_app.activity.dissemination.forms import ItemForm, RelayForm
from kim_app.activity.dissemination.operations import (
    FILE_MAX_BYTES,
    ItemData,
    file_path,
    relay_item,
    send_item,
)
from kim_app.activity.dissemination.queries import (
    area_choices,
    item_for_kim,
    item_for_operator,
    item_report,
    kim_items,
    kim_relay,
    sent_items,
)
from kim_app.activity.models import Channel, InfoItem
from kim_app.activity.operations import ActivityError
from kim_app.auth.models import OPERATOR_ROLES, Role
from kim_app.documents import kept_file
from kim_app.errors import attach_error
from kim_app.extensions import db
from kim_app.groups.models import Kim
from kim_app.groups.operations import get_kim_or_404, offered_bidang
from kim_app.htmx import redirect_after_post, render
from kim_app.phones import whatsapp_link
from kim_app.security import roles_required, scope_of
from kim_app.uploads import upload_limit

VIEWERS = (*OPERATOR_ROLES, Role.KEPALA_DESA, Role.PENGURUS_KIM)
UPLOAD_OVERHEAD = 64 * 1024


def _item_form(formdata=...) -> ItemForm:
    form = ItemForm() if formdata is ... else ItemForm(formdata=formdata)
    return form.with_choices(
        area_choices(current_user, _("Seluruh Indonesia")),
        offered_bidang(scope_of(current_user) or None),
        _("Semua bidang"),
    )


@bp.get("/informasi")
@roles_required(*OPERATOR_ROLES)
def info_index():
    """Information sent to the KIM of the operator's wilayah, with how many relayed it."""
    return render("activity/info_index.html", page=sent_items(current_user))


def _new_page(form: ItemForm, status: int = 200) -> Response:
    return render("activity/info_form.html", status=status, form=form)


@bp.route("/informasi/baru", methods=["GET", "POST"])
@upload_limit(FILE_MAX_BYTES + UPLOAD_OVERHEAD)
@roles_required(*OPERATOR_ROLES)
def info_new():
    """Send information to the KIM of an area (and a field), optionally urgent."""
    if request.method == "GET":
        return _new_page(_item_form(None))
    form = _item_form()
    if not form.validate_on_submit():
        return _new_page(form, 422)
    upload = request.files.get("berkas")
    data = ItemData(
        area_code=form.area.data or "",
        field=form.field.data or "",
        title=form.title.data or "",
        text=form.text.data or "",
        link=form.link.data or "",
        share_text=form.share_text.data or "",
        urgent=form.urgent.data,
    )
    try:
        with db.session.begin_nested():
            item = send_item(
                data,
                upload.read(FILE_MAX_BYTES + 1) if upload and upload.filename else None,
                current_user,
            )
    except ActivityError as error:
        attach_error(form, error)
        return _new_page(form, 422)
    flash(_("Informasi dikirim ke %(n)d KIM.", n=item.kims), "success")
    return redirect_after_post(url_for("activity.info_item", item_id=item.id))


@bp.get("/informasi/<int:item_id>")
@roles_required(*OPERATOR_ROLES)
def info_item(item_id: int):
    """One item: its text, the KIM (of the reader's wilayah) that relayed it, where, how far."""
    item = item_for_operator(item_id, current_user) or abort(404)
    return render(
        "activity/info_item.html",
        item=item,
        found=item_report(item, current_user),
        share=whatsapp_link(None, item.share_text),
    )


def _file_response(item: InfoItem) -> Response:
    """The item's file: a PDF downloaded, an image shown."""
    path = file_path(item)
    name = f"informasi-{item.id}{path.suffix if path else ''}"
    return kept_file(path, item.file_mime, name, inline=item.file_mime != "application/pdf")


@bp.get("/informasi/<int:item_id>/berkas")
@roles_required(*OPERATOR_ROLES)
def info_file(item_id: int):
    return _file_response(item_for_operator(item_id, current_user) or abort(404))


def _kim(kim_id: int) -> Kim:
    return get_kim_or_404(kim_id, current_user)


@bp.get("/kim/<int:kim_id>/informasi")
@roles_required(*VIEWERS)
def kim_info(kim_id: int):
    """What the KIM is asked to spread: urgent ones not yet relayed first."""
    kim = _kim(kim_id)
    return render("activity/kim_info.html", kim=kim, page=kim_items(kim))


def _kim_item_page(kim: Kim, item: InfoItem, form: RelayForm, status: int = 200) -> Response:
    relay = kim_relay(item.id, kim.id)
    return render(
        "activity/kim_item.html",
        status=status,
        kim=kim,
        item=item,
        relay=relay,
        form=form,
        share=whatsapp_link(None, item.share_text),
    )


@bp.route("/kim/<int:kim_id>/informasi/<int:item_id>", methods=["GET", "POST"])
@roles_required(*VIEWERS)
def kim_item(kim_id: int, item_id: int):
    """An item for the KIM: share it by WhatsApp with one tap, then say where and to about how
    many people (again to change it)."""
    kim = _kim(kim_id)
    item = item_for_kim(item_id, kim) or abort(404)
    if request.method == "GET":
        relay = kim_relay(item.id, kim.id)
        form = RelayForm(
            formdata=None,
            channels=relay.channels.split(",") if relay else ["whatsapp"],
            reach=relay.reach if relay else None,
            link=relay.link if relay else "",
        )
        return _kim_item_page(kim, item, form)
    form = RelayForm()
    if not form.validate_on_submit():
        return _kim_item_page(kim, item, form, 422)
    try:
        with db.session.begin_nested():
            relay_item(
                item,
                kim,
                tuple(Channel(v) for v in form.channels.data or []),
                form.reach.data or 0,
                form.link.data or "",
                current_user,
            )
    except ActivityError as error:
        attach_error(form, error)
        return _kim_item_page(kim, item, form, 422)
    flash(_("Terima kasih. Penyebaran informasi ini tercatat."), "success")
    return redirect_after_post(url_for("activity.kim_info", kim_id=kim.id))


@bp.get("/kim/<int:kim_id>/informasi/<int:item_id>/berkas")
@roles_required(*VIEWERS)
def kim_item_file(kim_id: int, item_id: int):
    kim = _kim(kim_id)
    return _file_response(item_for_kim(item_id, kim) or abort(404))
