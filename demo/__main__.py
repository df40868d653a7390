"""`python -m demo [--api URL]`: demo staff and applications on a running system (see demo/__init__.py)."""

import argparse
import asyncio

from core.config import get_settings
from demo import seed_demo_at


def main() -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api", default=f"http://{settings.api_host}:{settings.api_port}",
                        help="the running API (default: DISCLOSURE_API_HOST:DISCLOSURE_API_PORT)")
    args = parser.parse_args()
    asyncio.run(seed_demo_at(args.api.rstrip("/"), settings))


if __name__ == "__main__":
    main()
