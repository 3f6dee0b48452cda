"""Employee creation shared by the CLI and the demo set-up."""

from __future__ import annotations

from core import auth
from core.db import atomic
from core.security import new_token
from core.tables import Employee
from core.validation import FieldError, normalize_email, normalize_phone


async def create_employee_with_password(
    tenant_id: int,
    name: str,
    email: str,
    role: str = "user",
    password: str | None = None,
    mobile: str | None = None,
) -> str:
    """Create an employee with a password; generate one if none is given and return it."""
    address = normalize_email(email, required=True)
    if role not in ("admin", "user"):
        raise FieldError("role", "must be admin or user")
    password = password if password is not None else new_token(12)
    auth.check_password_rules(password)
    hashed = await auth.hash_password(password)
    async with atomic():
        if await Employee.exists().where(
            (Employee.tenant_id == tenant_id) & (Employee.email == address) & Employee.deleted_at.is_null()
        ):
            raise FieldError("email", "another employee already has this e-mail address")
        await Employee.insert(
            Employee(
                tenant_id=tenant_id,
                name=name.strip() or address,
                email=address,
                role=role,
                password_hash=hashed,
                mobile_phone=normalize_phone(mobile, "mobile"),
            )
        )
    return password
