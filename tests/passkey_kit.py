"""A software authenticator for the passkey tests: real WebAuthn answers made in Python.

It holds an EC P-256 key per credential and builds what a browser hands the page: for a
registration a "none" attestation object (authenticator data with the credential's COSE
public key), for an assertion the authenticator data and an ECDSA-SHA256 signature over it
and the client data's hash, exactly as verification expects. Tests can change any part
(origin, challenge, type, counter, the user-verified flag) to make a forged answer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def relying_party() -> tuple[str, str]:
    from plugins.twofactor.passkeys import relying_party as rp

    return rp()


@dataclass
class SoftAuthenticator:
    """One credential of one authenticator."""

    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    counter: int = 0
    user_handle: bytes = b""

    @property
    def id(self) -> str:
        return b64u(self.credential_id)

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or relying_party()[1], "crossOrigin": False}
        ).encode()

    def create(self, public_key: dict[str, Any], origin: str | None = None) -> dict[str, Any]:
        """The answer of navigator.credentials.create(publicKey) (as JSON)."""
        rp_id = public_key["rp"]["id"]
        self.user_handle = unb64u(public_key["user"]["id"])
        client_data = self._client_data("webauthn.create", public_key["challenge"], origin)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([UP | UV | AT])
            + struct.pack(">I", self.counter)
            + bytes(16)
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self._cose_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {"clientDataJSON": b64u(client_data), "attestationObject": b64u(attestation)},
            "clientExtensionResults": {},
        }

    def get(
        self,
        public_key: dict[str, Any],
        *,
        origin: str | None = None,
        verified: bool = True,
        challenge: str | None = None,
        counter: int | None = None,
        client_data: bytes | None = None,
    ) -> dict[str, Any]:
        """The answer of navigator.credentials.get(publicKey) (as JSON); the counter grows
        by one unless ``counter`` is given."""
        self.counter = self.counter + 1 if counter is None else counter
        rp_id = public_key.get("rpId") or relying_party()[0]
        data = client_data or self._client_data("webauthn.get", challenge or public_key["challenge"], origin)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([UP | (UV if verified else 0)])
            + struct.pack(">I", self.counter)
        )
        signature = self.key.sign(auth_data + hashlib.sha256(data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64u(data),
                "authenticatorData": b64u(auth_data),
                "signature": b64u(signature),
                "userHandle": b64u(self.user_handle) if self.user_handle else None,
            },
            "clientExtensionResults": {},
        }


async def register(client: Any, name: str = "Laptop") -> SoftAuthenticator:
    """A new passkey for the employee logged in on ``client`` (through the API)."""
    r = await client.post("/api/twofactor/passkeys/options")
    assert r.status_code == 201, r.text
    body = r.json()
    authenticator = SoftAuthenticator()
    credential = authenticator.create(body["publicKey"])
    r = await client.post(
        "/api/twofactor/passkeys", json={"challenge_id": body["challenge_id"], "name": name, "credential": credential}
    )
    assert r.status_code == 201, r.text
    return authenticator
