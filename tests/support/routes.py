"""Walking every route an app registers, with its full path and dependencies, for the role matrices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute


@dataclass(frozen=True)
class WalkedRoute:
    methods: frozenset[str]
    path: str
    dependant: Any


def walk_routes(app) -> list[WalkedRoute]:
    """Every APIRoute as included (prefixed path; the router's dependencies as well as the route's).

    Newer FastAPI keeps an included router as one branch in `app.routes` instead of copying its
    routes in; `iter_route_contexts` walks the branches.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI that still flattens included routers into app.routes
        contexts = list(app.routes)
    else:
        contexts = list(iter_route_contexts(app.routes))
    found = []
    for context in contexts:
        if isinstance(getattr(context, "original_route", context), APIRoute):
            found.append(WalkedRoute(frozenset(context.methods - {"HEAD"}), context.path, context.dependant))
    return found


def role_guards(route: WalkedRoute) -> list:
    """Every dependency of the route, at any depth, that names the roles it lets through (`.roles`)."""
    found, stack = [], list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if hasattr(dep.call, "roles"):
            found.append(dep.call)
        stack.extend(dep.dependencies)
    return found
