"""Policy profiles: the legal periods an application is held to, fixed at intake."""

from policy.profiles import DEFAULT_PROFILE, PROFILES, PolicyProfile, profile_named

__all__ = ["DEFAULT_PROFILE", "PROFILES", "PolicyProfile", "profile_named"]
