"""A password hasher for test runs: PBKDF2-SHA256 as deployed, with few iterations.

Django's own hasher takes a million iterations, half a second a password on a small
machine, and every test that creates or signs in a user pays it. The iterations are
stored in each hash, so a hash made here verifies under the deployed hasher too (in a
process a test starts), which then upgrades it on sign-in.
"""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """The deployed algorithm (same name, same format), with 1,000 iterations."""

    iterations = 1000
