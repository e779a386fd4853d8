"""What the HTTP tests send with a request."""


def bearer(token: str) -> dict[str, str]:
    """The headers of a request made with this role token."""
    return {"Authorization": f"Bearer {token}"}
