"""Activities: the workflows' I/O (database, mail), idempotent on business keys."""

from activities.disclosure import DisclosureActivities, all_activities

__all__ = ["DisclosureActivities", "all_activities"]
