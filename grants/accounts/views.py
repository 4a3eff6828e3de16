"""Account pages (registration, sign-in, sign-out, password reset)."""
