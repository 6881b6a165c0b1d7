"""Who may do what: roles and their capabilities, in one table."""

from __future__ import annotations

from typing import Final

ADMIN: Final = "admin"
BANK_OFFICER: Final = "bank_officer"
COMMUNE_OFFICER: Final = "commune_officer"
PRINT_STAFF: Final = "print_staff"
MARKET_MANAGER: Final = "market_manager"

ROLES: Final = (ADMIN, BANK_OFFICER, COMMUNE_OFFICER, PRINT_STAFF, MARKET_MANAGER)

LABELS_VI: Final = {
    ADMIN: "Quản trị",
    BANK_OFFICER: "Cán bộ ngân hàng",
    COMMUNE_OFFICER: "Cán bộ xã/phường",
    PRINT_STAFF: "Nhân viên in",
    MARKET_MANAGER: "Ban quản lý chợ",
}

# register: create households; edit: change them and their bank account; print: placard batches;
# verify: record placard checks; pii: see full CCCD and account numbers; users: manage accounts;
# payments: see the amounts a household received (others see only whether it is receiving).
_CAPS: Final = {
    ADMIN: {"register", "edit", "print", "verify", "pii", "users", "view", "payments"},
    BANK_OFFICER: {"register", "edit", "print", "verify", "pii", "view", "payments"},
    COMMUNE_OFFICER: {"register", "edit", "print", "verify", "pii", "view"},
    PRINT_STAFF: {"print", "verify", "view"},
    MARKET_MANAGER: {"view", "payments"},
}


def can(role: str, capability: str) -> bool:
    """Whether a role holds a capability; unknown roles hold none."""
    return capability in _CAPS.get(role, set())
