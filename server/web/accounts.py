"""Accounts: one per person (seed rule 8). Admins and managers add (an admin account only an admin);
admins deactivate, unlock and reset; everyone changes their own password."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.login import count_failure, end_all_sessions, end_session, locked_names, unlock_name
from server.accounts.models import ROLES, User
from server.accounts.passwords import password_problems, verify_password
from server.accounts.service import (
    AccountError,
    add_user,
    change_password,
    end_of_day,
    last_day,
    revoke_all_tokens,
    revoke_token,
    tokens_with_users,
)
from server.api.deps import Db
from server.audit.service import record
from server.notify.recipients import email_problem
from server.people.models import Person
from server.single_line import has_control
from server.web.account_notices import router as notices_router
from server.web.admin.csv_import import parse_date
from server.web.deps import require_page
from server.web.render import EVERYONE, page

router = APIRouter(include_in_schema=False)
router.include_router(notices_router)
ADMINS = ("admin",)
ADDERS = ("admin", "manager")  # a manager adds the office's accounts; an admin account only an admin
VIEWERS = ("admin", "manager", "auditor")


def roles_for(user: User) -> tuple[str, ...]:
    """The roles `user` may give a new account."""
    return ROLES if user.role == "admin" else tuple(r for r in ROLES if r != "admin")


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _accounts_page(request: Request, db, *, form: dict | None = None, errors: dict | None = None,
                   notice: str | None = None, status_code: int = 200) -> HTMLResponse:
    users = db.scalars(select(User).order_by(User.name)).all()
    people = db.scalars(select(Person).order_by(Person.name, Person.id)).all()
    return page(request, "accounts.html", {"users": users, "roles": roles_for(request.state.user), "form": form or {},
                                           "errors": errors or {}, "can_add": request.state.user.role in ADDERS,
                                           "notice": notice, "now": request.app.state.clock(),
                                           "tokens": tokens_with_users(db),
                                           "locked": locked_names(db, request.app.state.clock()),
                                           "people": people, "person_names": {p.id: p.name for p in people},
                                           "last_days": {u.id: last_day(u.expires_at, request.app.state.settings.zone)
                                                         for u in users if u.expires_at}},
                status_code=status_code)


@router.get("/admin/accounts", response_class=HTMLResponse)
def accounts(request: Request, db: Db, _user: Annotated[User, Depends(require_page(*VIEWERS))]) -> HTMLResponse:
    return _accounts_page(request, db)


@router.post("/admin/accounts", response_class=HTMLResponse)
def add_account(request: Request, db: Db, adder: Annotated[User, Depends(require_page(*ADDERS))],
                name: Annotated[str, Form(max_length=200)], role: Annotated[str, Form()],
                password: Annotated[str, Form(max_length=1000)],
                password_again: Annotated[str, Form(max_length=1000)],
                expires_on: Annotated[str, Form(max_length=40)] = "") -> Response:
    lang, now, zone = request.state.lang, request.app.state.clock(), request.app.state.settings.zone
    form = {"name": name, "role": role, "expires_on": expires_on}
    errors: dict[str, list[str]] = {}
    last, problem = _last_day(expires_on, role, now.astimezone(zone).date())
    if problem:
        errors["expires_on"] = [problem]
    if not 1 <= len(name.strip()) <= 100:
        errors["name"] = ["acct.name_bad"]
    elif has_control(name.strip()):
        errors["name"] = ["admin.err.single_line"]
    elif db.scalars(select(User.id).where(User.name == name.strip())).first():
        errors["name"] = ["acct.name_taken"]
    if role in ROLES and role not in roles_for(adder):
        return _accounts_page(request, db, form=form, errors={"role": ["acct.admin_only"]}, status_code=403)
    if role not in ROLES:
        errors["role"] = ["acct.role_unknown"]
    if problems := password_problems(password, lang):
        errors["password"] = problems
    elif password != password_again:
        errors["password_again"] = ["acct.mismatch"]
    if errors:
        return _accounts_page(request, db, form=form, errors=errors, status_code=422)
    try:
        add_user(db, name, role, password, now, expires_at=end_of_day(last, zone) if last else None)
    except AccountError as exc:  # a race with another admin: shown like the checks above
        return _accounts_page(request, db, form=form, errors={"name": [str(exc)]}, status_code=422)
    facts: dict[str, object] = {"account": name.strip(), "role": role}
    if last is not None:
        facts["last_day"] = last
    record(db, now, "account_added", adder.name, facts, _address(request))
    return RedirectResponse("/admin/accounts", status_code=303)


def _last_day(typed: str, role: str, today: date) -> tuple[date | None, str | None]:
    """The account's last day, required for the ward's auditor (access is temporary), never before today."""
    if not typed.strip():
        return None, ("acct.expires_required" if role == "auditor" else None)
    try:
        day = parse_date(typed)
    except ValueError:
        return None, "admin.err.date"
    if day < today:
        return None, "acct.expires_past"
    return day, None


def _target(db, user_id: int) -> User | None:
    return db.get(User, user_id)


@router.post("/admin/accounts/{user_id}/active")
def set_active(request: Request, db: Db, admin: Annotated[User, Depends(require_page(*ADMINS))], user_id: int,
               active: Annotated[bool, Form()]) -> Response:
    target, now = _target(db, user_id), request.app.state.clock()
    if target is None:
        raise HTTPException(404, "no such record")
    if target.id == admin.id and not active:
        return _accounts_page(request, db, errors={"_": ["acct.self"]}, status_code=409)
    target.active = active
    if not active:  # for good: activating the account again brings neither sessions nor tokens back
        end_all_sessions(db, target.id, now)
        revoke_all_tokens(db, target.id, now)
    record(db, now, "account_activated" if active else "account_deactivated", admin.name,
           {"account": target.name}, _address(request))
    return RedirectResponse("/admin/accounts", status_code=303)


@router.post("/admin/accounts/tokens/{token_id}/revoke")
def revoke_api_token(request: Request, db: Db, admin: Annotated[User, Depends(require_page(*ADMINS))],
                     token_id: int) -> Response:
    now = request.app.state.clock()
    token = revoke_token(db, token_id, now)
    if token is None:
        return _accounts_page(request, db, errors={"_": ["acct.token_gone"]}, status_code=409)
    record(db, now, "token_revoked", admin.name, {"token": f"{token.prefix}…"}, _address(request))
    return RedirectResponse("/admin/accounts#tokens", status_code=303)


@router.post("/admin/accounts/{user_id}/unlock")
def unlock_account(request: Request, db: Db, admin: Annotated[User, Depends(require_page(*ADMINS))],
                   user_id: int) -> Response:
    target, now = _target(db, user_id), request.app.state.clock()
    if target is None:
        raise HTTPException(404, "no such record")
    unlock_name(db, target.name)
    record(db, now, "account_unlocked", admin.name, {"account": target.name}, _address(request))
    return RedirectResponse("/admin/accounts", status_code=303)


@router.post("/admin/accounts/{user_id}/password", response_class=HTMLResponse)
def reset_password(request: Request, db: Db, admin: Annotated[User, Depends(require_page(*ADMINS))], user_id: int,
                   password: Annotated[str, Form(max_length=1000)]) -> Response:
    target, now = _target(db, user_id), request.app.state.clock()
    if target is None:
        raise HTTPException(404, "no such record")
    if problems := password_problems(password, request.state.lang):
        return _accounts_page(request, db, errors={f"password-{user_id}": problems}, status_code=422)
    change_password(db, target, password, now)
    record(db, now, "password_reset", admin.name, {"account": target.name}, _address(request))
    return RedirectResponse("/admin/accounts", status_code=303)


def _contact_problems(db: Session, target: User, email: str | None, person_id: int | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if email and (problem := email_problem(email)):
        errors[f"email-{target.id}"] = [problem]
    if person_id is not None:
        if db.get(Person, person_id) is None:
            errors[f"person-{target.id}"] = ["acct.person_unknown"]
        elif db.scalars(select(User.id).where(User.person_id == person_id, User.id != target.id)).first():
            errors[f"person-{target.id}"] = ["acct.person_taken"]
    return errors


@router.post("/admin/accounts/{user_id}/contact", response_class=HTMLResponse)
def set_contact(request: Request, db: Db, admin: Annotated[User, Depends(require_page(*ADMINS))], user_id: int,
                email: Annotated[str, Form(max_length=1000)] = "",
                person_id: Annotated[str, Form(max_length=20)] = "") -> Response:
    """An account's e-mail address for notices, and the staff member (card holder) the login belongs to."""
    target, now = _target(db, user_id), request.app.state.clock()
    if target is None:
        raise HTTPException(404, "no such record")
    address = email.strip() or None
    person = int(person_id) if person_id.strip().isdigit() else None
    if errors := _contact_problems(db, target, address, person):
        return _accounts_page(request, db, errors=errors, status_code=422)
    if (address, person) != (target.email, target.person_id):
        target.email, target.person_id = address, person
        staff = db.get(Person, person) if person is not None else None
        record(db, now, "account_contact_changed", admin.name,
               {"account": target.name, "email": address, "staff": staff.name if staff else None}, _address(request))
    return RedirectResponse("/admin/accounts", status_code=303)


@router.get("/account/password", response_class=HTMLResponse)
def own_password_form(request: Request, _user: Annotated[User, Depends(require_page(*EVERYONE))]) -> HTMLResponse:
    return page(request, "account_password.html", {"errors": {}, "done": False})


@router.post("/account/password", response_class=HTMLResponse)
def change_own_password(request: Request, db: Db, user: Annotated[User, Depends(require_page(*EVERYONE))],
                        current: Annotated[str, Form(max_length=1000)], password: Annotated[str, Form(max_length=1000)],
                        password_again: Annotated[str, Form(max_length=1000)]) -> Response:
    now, errors, settings = request.app.state.clock(), {}, request.app.state.settings
    if not verify_password(user.password_hash, current):
        # Guessing the owner's password at an unattended screen counts toward the lockout like a login.
        outcome = count_failure(db, user.name, now, max_failures=settings.login_max_failures,
                                lockout=timedelta(minutes=settings.lockout_min), address=_address(request),
                                where="password_change")
        if outcome.problem == "locked":
            end_session(db, request.state.session, now)
            return RedirectResponse("/login", status_code=303)
        errors["current"] = ["acct.wrong_current"]
    elif problems := password_problems(password, request.state.lang):
        errors["password"] = problems
    elif password != password_again:
        errors["password_again"] = ["acct.mismatch"]
    if errors:
        return page(request, "account_password.html", {"errors": errors, "done": False}, status_code=422)
    change_password(db, user, password, now)
    record(db, now, "password_changed", user.name, {}, _address(request))
    # Every session of the person ended, this one too: log in again with the new password.
    return RedirectResponse("/login?next=/dashboard", status_code=303)
