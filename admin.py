"""Admin commands. `python admin.py publish-calendar --year 2027 --file 2027.json --by NAME`

The file holds the State Council's schedule for the year:
{"holidays": ["2027-01-01", ...], "makeup_workdays": ["2027-02-07", ...], "source": "国办发明电〔2026〕X号"}
It is stored, and every open application recomputes its due date, exactly as the API's
PUT /api/v1/calendar/years/{year} does.
"""

import argparse
import asyncio
import json
import sys
from pathlib import Path

from fastapi import HTTPException
from sqlmodel import Session

from api.deps import CalendarSource
from api.routes.calendar import publish_year
from api.schemas import CalendarYearIn
from core.config import get_settings
from core.temporal import connect
from db.session import init_db, make_engine


async def publish_calendar(year: int, file: Path, by: str) -> int:
    settings = get_settings()
    engine = make_engine(settings.database_url)
    init_db(engine)
    try:
        body = CalendarYearIn.model_validate(json.loads(file.read_text(encoding="utf-8")) | {"published_by": by})
    except (ValueError, OSError) as err:
        print(f"Cannot read {file}: {err}", file=sys.stderr)
        return 2
    client = await connect(settings)
    with Session(engine) as session:
        try:
            published = await publish_year(year, body, session, client, settings, CalendarSource(engine))
        except HTTPException as err:
            print(err.detail, file=sys.stderr)
            return 2
    print(f"Published {year}: calendar {published.calendar_version}; "
          f"open applications are told by workflow {published.open_applications_notified_by}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    publish = commands.add_parser("publish-calendar", help="publish a year's official holiday schedule")
    publish.add_argument("--year", type=int, required=True)
    publish.add_argument("--file", type=Path, required=True)
    publish.add_argument("--by", required=True, help="who publishes it (recorded)")
    args = parser.parse_args()
    return asyncio.run(publish_calendar(args.year, args.file, args.by))


if __name__ == "__main__":
    sys.exit(main())
