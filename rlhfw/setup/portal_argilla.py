"""The portal's calls to Argilla as its owner: the REST endpoints the argilla SDK uses, through
plain httpx, so that a server that is down (the participant may retry) is told apart from one
that refuses (the set-up needs fixing), and no error message carries a participant's id."""

from __future__ import annotations

import httpx


class ArgillaDown(RuntimeError):
    """Argilla did not answer (or answered 5xx): the participant may try again."""


class PortalBroken(RuntimeError):
    """Argilla refused a call (bad key, a missing workspace): the set-up needs fixing."""


class Accounts:
    """Argilla's REST API with the owner's key (ARGILLA_API_KEY)."""

    def __init__(self, api_url: str, api_key: str, timeout: float = 15.0) -> None:
        self.http = httpx.Client(
            base_url=api_url.rstrip("/"), headers={"X-Argilla-Api-Key": api_key}, timeout=timeout
        )

    def _call(self, method: str, path: str, what: str, **kwargs) -> dict:
        # `what` names the call in errors: paths may hold ids, which stay out of messages.
        try:
            resp = self.http.request(method, path, **kwargs)
        except httpx.TransportError:
            raise ArgillaDown(f"cannot reach Argilla at {self.http.base_url}") from None
        if resp.status_code >= 500:
            raise ArgillaDown(f"Argilla answered {resp.status_code} to {what}")
        if resp.is_error:
            raise PortalBroken(f"Argilla refused {what} ({resp.status_code})")
        return resp.json()

    def can_log_in(self, username: str, password: str) -> bool:
        """Whether Argilla takes this password (its login form, without the owner's key)."""
        try:
            resp = httpx.post(
                str(self.http.base_url).rstrip("/") + "/api/v1/token",
                data={"username": username, "password": password},
                timeout=self.http.timeout,
            )
        except httpx.TransportError:
            raise ArgillaDown(f"cannot reach Argilla at {self.http.base_url}") from None
        if resp.status_code >= 500:
            raise ArgillaDown(f"Argilla answered {resp.status_code} to a login")
        return resp.is_success  # 201 Created, with a token

    def workspace_ids(self) -> dict[str, str]:
        items = self._call("GET", "/api/v1/me/workspaces", "listing workspaces")["items"]
        return {w["name"]: w["id"] for w in items}

    def user(self, username: str) -> dict | None:
        items = self._call("GET", "/api/v1/users", "listing users")["items"]
        return next((u for u in items if u["username"] == username), None)

    def workspaces_of_user(self, user_id: str) -> list[str]:
        path = f"/api/v1/users/{user_id}/workspaces"
        return [w["name"] for w in self._call("GET", path, "listing a user's workspaces")["items"]]

    def annotators_in(self, workspace_id: str) -> int:
        path = f"/api/v1/workspaces/{workspace_id}/users"
        users = self._call("GET", path, "listing a workspace's users")["items"]
        return sum(1 for u in users if u["role"] == "annotator")

    def create_user(self, username: str, password: str) -> dict:
        body = {
            "username": username,
            "password": password,
            "role": "annotator",
            "first_name": "Participant",
        }
        return self._call("POST", "/api/v1/users", "creating a user", json=body)

    def add_to_workspace(self, workspace_id: str, user_id: str) -> None:
        path = f"/api/v1/workspaces/{workspace_id}/users"
        self._call("POST", path, "adding a user to a workspace", json={"user_id": user_id})
