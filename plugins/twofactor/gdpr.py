"""What two-factor stores about people, and the fixed rules that delete it.

Challenges, send records, trusted devices, recovery codes, authenticator apps and the
wrong-code counters are personal data (who got a code, on which masked number, from which
kind of browser). They are only needed for a short while:

* a challenge: deleted one day after it expired (used, failed or never entered);
* a trusted device: deleted as soon as it expired (365 days after its first 2FA login);
* a send record (the per-person hourly limit): deleted after one day.

The rules are fixed (shown in Settings > GDPR, not changeable). The scheduler job
``twofactor.purge_expired`` does the same deletions, so they also happen where the GDPR
sweeps are not scheduled. Every table names the person in a column of the person's
kind; those columns are declared as employee/customer/contact references with
``delete_row``: anonymizing a person deletes every two-factor row about them.

Each of those tables is one :class:`RecordSpec` (``declare_records``), from which the core
derives the personal-data fields, the rules and the places of person search. They are
records nobody opens (``opens=False``: no pages, no record type, no activity). Person
search finds people by the masked phone, the signer's name, a signing request's reason and
the person references; never by a code, a hash or a token, which are declared not personal.

The organization's SMS settings, its contexts and its daily SMS count are no records and hold
nothing about a person: they stay in ``declare_personal_data`` as not personal, so every text
column is still declared.
"""

from __future__ import annotations

from typing import Any

from piccolo.table import Table

from core.contracts import Clock, Field, Mode, NotPersonal, RecordSpec, RetentionRule
from plugins.twofactor import tables as t

CHALLENGES_RULE = "twofactor.challenges"
DEVICES_RULE = "twofactor.devices"
SENDS_RULE = "twofactor.sends"

AREA = "settings"
PLACE_SV = "Tvåfaktorsautentisering"
PLACE_EN = "Two-factor authentication"

REFS = (
    Field("employee_id", "employee_ref", "delete_row", "Användare", "Employee"),
    Field("customer_id", "customer_ref", "delete_row", "Kund", "Customer"),
    Field("contact_id", "contact_ref", "delete_row", "Kontaktperson", "Contact person"),
)
FIXED_LIST = "a choice from a fixed list"


def _fixed(key: str, label_sv: str, label_en: str, clock: Clock, column: str, mode: Mode,
           days: int = 1) -> RetentionRule:
    """A rule shown in Settings > GDPR that nobody can change (its table: the record's)."""
    return RetentionRule(
        key=key, label_sv=label_sv, label_en=label_en, clock=clock, clock_columns=(column,),
        allowed_modes=(mode,), default_mode=mode, default_days=days, fixed=True,
    )


def _devices_link(_: int) -> str:
    return "/api/twofactor/devices"


def _spec(name: str, table: type[Table], label: tuple[str, str], place: tuple[str, str], **rest: Any) -> RecordSpec:
    """A two-factor table as a record nobody opens, found in person search under ``place``."""
    return RecordSpec(
        name, table, *label, plural_sv=f"{PLACE_SV} – {place[0]}", plural_en=f"{PLACE_EN} – {place[1]}",
        title_column=None, soft_delete=False, area=AREA, opens=False, **rest,
    )


def records() -> list[RecordSpec]:
    return [
        _spec(
            "challenge", t.TwoFactorChallenge, ("SMS-kodförfrågan", "SMS code request"), ("SMS-koder", "SMS codes"),
            fields=(
                Field("phone_masked", "phone", "delete_row", "Maskerat telefonnummer", "Masked phone number",
                      rule=CHALLENGES_RULE),
                Field("signer_name", "name", "delete_row", "Namn vid SMS-signering", "Name at SMS signing",
                      rule=CHALLENGES_RULE),
                Field("reason", "free_text", "delete_row", "Skäl till signeringsförfrågan",
                      "Reason for a signing request", rule=CHALLENGES_RULE),
                Field("requested_by", "employee_ref", "zero", "Startad av (åt någon annan)",
                      "Started by (for someone else)"),
                *REFS,
            ),
            not_personal=(
                (("id_hash", "code_hmac", "subject_hash"), "hashes of secrets"),
                (("person_kind", "context", "purpose", "status"), "choices from fixed lists"),
            ),
            rules=(
                _fixed(CHALLENGES_RULE, "Tvåfaktor: SMS-kodförfrågningar raderas ett dygn efter att de gått ut",
                       "Two-factor: SMS code requests deleted one day after they expire",
                       "dated", "expires_at", "days"),
            ),
        ),
        _spec(
            "device", t.TrustedDevice, ("Betrodd enhet", "Trusted device"), ("betrodda enheter", "trusted devices"),
            link=_devices_link,
            fields=(
                Field("label", "other", "delete_row", "Betrodd enhet (webbläsare, system)",
                      "Trusted device (browser, system)", rule=DEVICES_RULE, search=False),
                *REFS,
            ),
            not_personal=((("token_hash",), "a hash of a secret token"), (("person_kind",), FIXED_LIST)),
            # "immediately" is swept at 0 days: due as soon as expires_at has passed.
            rules=(
                _fixed(DEVICES_RULE,
                       "Tvåfaktor: betrodda enheter raderas när de gått ut (ett år efter första inloggningen)",
                       "Two-factor: trusted devices deleted when they expire (one year after the first login)",
                       "dated", "expires_at", "immediately", days=365),
            ),
        ),
        _spec(
            "send", t.TwoFactorSend, ("Skickad SMS-kod", "SMS code sent"), ("skickade SMS-koder", "SMS codes sent"),
            fields=(
                Field("person_kind", "other", "delete_row", "Skickad SMS-kod", "SMS code sent", rule=SENDS_RULE,
                      search=False),
                *REFS,
            ),
            rules=(
                _fixed(SENDS_RULE, "Tvåfaktor: uppgifter om skickade SMS-koder raderas efter ett dygn",
                       "Two-factor: records of SMS codes sent deleted after one day", "created", "sent_at", "days"),
            ),
        ),
        # Recovery codes: kept until the person makes a new set or is anonymized (the
        # references delete the rows); only hashes, never searched.
        _spec(
            "recovery", t.TwoFactorRecoveryCode, ("Reservkod", "Recovery code"), ("reservkoder", "recovery codes"),
            fields=REFS,
            not_personal=((("code_hash",), "a hash of a secret code"), (("person_kind",), FIXED_LIST)),
        ),
        # The authenticator app: kept until the person (or an administrator) removes it or
        # the person is anonymized (the references delete the row). The secret is stored
        # encrypted and is never searched or shown.
        _spec(
            "app", t.TwoFactorApp, ("Autentiseringsapp", "Authenticator app"),
            ("autentiseringsappar", "authenticator apps"),
            fields=REFS,
            not_personal=(
                (("secret_enc",), "an encrypted secret"),
                (("person_kind", "status"), "choices from fixed lists"),
            ),
        ),
        # Passkeys: kept until the person (or an administrator) removes them or the person is
        # anonymized (the references delete the rows). The name is the person's own label.
        _spec(
            "passkey", t.TwoFactorPasskey, ("Nyckel (passkey)", "Passkey"),
            ("nycklar (passkeys)", "passkeys"),
            fields=(
                Field("name", "other", "delete_row", "Nyckelns namn", "Name of the passkey", search=False),
                *REFS,
            ),
            not_personal=(
                (("credential_id", "public_key"), "public key material of an authenticator"),
                (("person_kind",), FIXED_LIST),
            ),
        ),
        _spec(
            "person", t.TwoFactorPerson, ("Felräknare", "Wrong-code counter"), ("felräknare", "wrong-code counters"),
            fields=REFS, not_personal=((("person_kind",), FIXED_LIST),),
        ),
    ]


def not_records() -> list[NotPersonal]:
    """The organization's own two-factor tables: settings and counts, nobody's data."""
    return [
        NotPersonal(t.TwoFactorSettings, ("provider", "sender"), "the organization's SMS gateway and sender"),
        NotPersonal(t.TwoFactorContextSetting, ("key",), "a context's key"),
        NotPersonal(t.TwoFactorDailyCount, ("day",), "a date"),
    ]
