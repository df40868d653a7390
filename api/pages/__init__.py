"""Web pages in Chinese, server-rendered (Jinja2) by the API's own application; htmx where it helps.

`mount_pages(app)` adds the page routers and `/static`. Every page action calls the JSON API in
process (api.pages.common.api_call): the same routes, validators, role checks, rate limits and audit.
"""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.pages import (participation_pages, proactive_pages, public, staff, staff_admin, staff_participation,
                       staff_proactive, staff_release, staff_reports)
from api.pages.common import STATIC_DIR

# Page routers in the order they are matched; other page modules add theirs here.
# staff_release before staff: its POST …/release-files would otherwise be taken for an action of staff.act.
ROUTERS = [public.router, staff_release.router, staff.router, staff_admin.router, proactive_pages.router,
           staff_proactive.router, participation_pages.router, staff_participation.router,
           staff_reports.router]  # issues 22, 26, 23


def mount_pages(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
