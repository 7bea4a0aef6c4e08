"""The bureau's matchmaking events (对接活动): record, edit, delete."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from api.deps import DB
from api.params import Id
from core.db import local_today
from core.events import service as events
from core.events.vocab import EventKind
from web import forms
from web.security import Bureau, csrf_protect
from web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)


# ----------------------------------------------------------------- events

EVENT_FIELDS = ("title", "kind", "held_on", "region", "venue", "attendance", "enterprises", "matches_made", "note")


def _events(request, db, user, y, values, errors, general, status=200):
    items, total = events.list_events(db, user, year=y, size=200)
    return render(request, "bureau/events.html", {
        "items": items, "total": total, "year": y, "values": values, "errors": errors, "general": general,
        "kinds": EventKind.choices(), "region_within": events.region_scope(user),
    }, status_code=status)


@router.get("/bureau/events")
def events_page(request: Request, db: DB, user: Bureau, year: str | None = None):
    y = forms.year_param(year)
    return _events(request, db, user, y, {"held_on": local_today().isoformat(), "region": user.org.region,
                                          "kind": "matchmaking"}, {}, [])


@router.post("/bureau/events")
async def events_create(request: Request, db: DB, user: Bureau):

    form = await request.form()
    values = {k: forms.text(form, k) for k in EVENT_FIELDS}
    payload = {k: v for k, v in values.items() if v != ""}
    ev, fe = forms.submit(db, lambda: events.create(db, user, payload))
    if fe:
        return _events(request, db, user, forms.year_param(values["held_on"][:4]), values, fe.fields, fe.general,
                       status=422)
    request.session["flash"] = f"已登记对接活动“{ev.title}”"
    return RedirectResponse(f"/bureau/events?year={ev.held_on.year}", status_code=303)


def _event_values(ev) -> dict:
    v = {k: getattr(ev, k) for k in EVENT_FIELDS}
    return forms.as_form_text(v)


def _event_form(request, user, ev, values, errors=None, general=None, status=200):

    return render(request, "bureau/event_form.html", {
        "ev": ev, "values": values, "errors": errors or {}, "general": general or [], "kinds": EventKind.choices(),
        "region_within": events.region_scope(user),
    }, status_code=status)


@router.get("/bureau/events/{event_id:int}/edit")
def event_edit(request: Request, db: DB, user: Bureau, event_id: Id):

    ev = events.get(db, event_id)
    return _event_form(request, user, ev, _event_values(ev))


@router.post("/bureau/events/{event_id:int}/edit")
async def event_update(request: Request, db: DB, user: Bureau, event_id: Id):

    form = await request.form()
    values = {k: forms.text(form, k) for k in EVENT_FIELDS}
    # Every field the form shows is replaced: a blank venue/note clears it, any other blank field
    # is sent as None (the service refuses a blank required field).
    payload = {k: v if v or k in ("venue", "note") else None for k, v in values.items()}
    ev, fe = forms.submit(db, lambda: events.update(db, user, event_id, payload))
    if fe:
        return _event_form(request, user, events.get(db, event_id), values, fe.fields, fe.general, status=422)
    request.session["flash"] = f"已修改对接活动“{ev.title}”"
    return RedirectResponse(f"/bureau/events?year={ev.held_on.year}", status_code=303)


@router.get("/bureau/events/{event_id:int}/delete")
def event_delete_confirm(request: Request, db: DB, user: Bureau, event_id: Id):
    return render(request, "bureau/event_delete.html", {"ev": events.get(db, event_id),
                                                         "kinds": EventKind.choices()})


@router.post("/bureau/events/{event_id:int}/delete")
def event_delete(request: Request, db: DB, user: Bureau, event_id: Id):

    ev = events.get(db, event_id)
    title, year = ev.title, ev.held_on.year
    events.delete(db, user, event_id)
    db.commit()
    request.session["flash"] = f"已删除对接活动“{title}”"
    return RedirectResponse(f"/bureau/events?year={year}", status_code=303)


