"""What two-factor stores about people, and the fixed rules that delete it.

Challenges, send records and trusted devices are personal data (who got a code, on which
masked number, from which kind of browser). They are only needed for a short while:

* a challenge: deleted one day after it expired (used, failed or never entered);
* a trusted device: deleted as soon as it expired (365 days after its first 2FA login);
* a send record (the per-person hourly limit): deleted after one day.

The rules are fixed (shown in Settings > GDPR, not changeable). The scheduler job
``twofactor.purge_expired`` does the same deletions, so they also happen where the GDPR
sweeps are not scheduled. Every table names the person in a column of the person's
kind; those columns are declared as employee/customer/contact references with
``delete_row``: anonymizing a person deletes every two-factor row about them.
"""

from __future__ import annotations

from core.contracts import NotPersonal, PersonalDataField, RetentionRule, SearchSource
from plugins.twofactor.tables import (
    TrustedDevice,
    TwoFactorChallenge,
    TwoFactorContextSetting,
    TwoFactorDailyCount,
    TwoFactorPerson,
    TwoFactorSend,
    TwoFactorSettings,
)

CHALLENGES_RULE = "twofactor.challenges"
DEVICES_RULE = "twofactor.devices"
SENDS_RULE = "twofactor.sends"

AREA = "settings"
PLACE_SV = "Tvåfaktorsautentisering"
PLACE_EN = "Two-factor authentication"


def retention_rules() -> list[RetentionRule]:
    return [
        RetentionRule(
            key=CHALLENGES_RULE,
            label_sv="Tvåfaktor: SMS-kodförfrågningar raderas ett dygn efter att de gått ut",
            label_en="Two-factor: SMS code requests deleted one day after they expire",
            clock="dated",
            table=TwoFactorChallenge,
            clock_columns=("expires_at",),
            allowed_modes=("days",),
            default_mode="days",
            default_days=1,
            fixed=True,
        ),
        RetentionRule(
            key=DEVICES_RULE,
            label_sv="Tvåfaktor: betrodda enheter raderas när de gått ut (ett år efter första inloggningen)",
            label_en="Two-factor: trusted devices deleted when they expire (one year after the first login)",
            clock="dated",
            table=TrustedDevice,
            clock_columns=("expires_at",),
            # "immediately" is swept at 0 days: due as soon as expires_at has passed.
            allowed_modes=("immediately",),
            default_mode="immediately",
            fixed=True,
        ),
        RetentionRule(
            key=SENDS_RULE,
            label_sv="Tvåfaktor: uppgifter om skickade SMS-koder raderas efter ett dygn",
            label_en="Two-factor: records of SMS codes sent deleted after one day",
            clock="created",
            table=TwoFactorSend,
            clock_columns=("sent_at",),
            allowed_modes=("days",),
            default_mode="days",
            default_days=1,
            fixed=True,
        ),
    ]


REFS = (
    ("employee_id", "employee_ref", "Användare", "Employee"),
    ("customer_id", "customer_ref", "Kund", "Customer"),
    ("contact_id", "contact_ref", "Kontaktperson", "Contact person"),
)
TABLES = (TwoFactorChallenge, TrustedDevice, TwoFactorSend, TwoFactorPerson)


def personal_data() -> list[PersonalDataField | NotPersonal]:
    F = PersonalDataField
    fields: list[PersonalDataField | NotPersonal] = [
        F(TwoFactorChallenge, "phone_masked", "phone", "delete_row", "Maskerat telefonnummer",
          "Masked phone number", rule=CHALLENGES_RULE),
        F(TwoFactorChallenge, "signer_name", "name", "delete_row", "Namn vid SMS-signering",
          "Name at SMS signing", rule=CHALLENGES_RULE),
        F(TwoFactorChallenge, "reason", "free_text", "delete_row", "Skäl till signeringsförfrågan",
          "Reason for a signing request", rule=CHALLENGES_RULE),
        F(TwoFactorChallenge, "requested_by", "employee_ref", "zero", "Startad av (åt någon annan)",
          "Started by (for someone else)"),
        F(TrustedDevice, "label", "other", "delete_row", "Betrodd enhet (webbläsare, system)",
          "Trusted device (browser, system)", rule=DEVICES_RULE),
        F(TwoFactorSend, "person_kind", "other", "delete_row", "Skickad SMS-kod",
          "SMS code sent", rule=SENDS_RULE),
    ]
    for table in TABLES:
        for column, category, label_sv, label_en in REFS:
            fields.append(F(table, column, category, "delete_row", label_sv, label_en))  # type: ignore[arg-type]
    N = NotPersonal
    fields += [
        N(TwoFactorSettings, ("provider", "sender"), "the organization's SMS gateway and sender"),
        N(TwoFactorContextSetting, ("key",), "a context's key"),
        N(TwoFactorChallenge, ("id_hash", "code_hmac", "subject_hash"), "hashes of secrets"),
        N(TwoFactorChallenge, ("person_kind", "context", "purpose", "status"),
          "choices from fixed lists"),
        N(TrustedDevice, ("token_hash",), "a hash of a secret token"),
        N(TrustedDevice, ("person_kind",), "a choice from a fixed list"),
        N(TwoFactorPerson, ("person_kind",), "a choice from a fixed list"),
        N(TwoFactorDailyCount, ("day",), "a date"),
    ]
    return fields


def search_sources() -> list[SearchSource]:
    def devices_link(_: int) -> str:
        return "/api/twofactor/devices"

    sources = [
        SearchSource(TwoFactorChallenge, "phone_masked", "phone", AREA, PLACE_SV, PLACE_EN),
        SearchSource(TwoFactorChallenge, "signer_name", "name", AREA, PLACE_SV, PLACE_EN),
        SearchSource(TwoFactorChallenge, "reason", "free_text", AREA, PLACE_SV, PLACE_EN),
        SearchSource(TwoFactorChallenge, "requested_by", "employee_ref", AREA,
                     f"{PLACE_SV} – startad åt någon annan", f"{PLACE_EN} – started for someone else"),
    ]
    for column, category, _, _ in REFS:
        sources.append(
            SearchSource(TrustedDevice, column, category, AREA, f"{PLACE_SV} – betrodda enheter",  # type: ignore[arg-type]
                         f"{PLACE_EN} – trusted devices", link=devices_link)
        )
        sources.append(
            SearchSource(TwoFactorChallenge, column, category, AREA, f"{PLACE_SV} – SMS-koder",  # type: ignore[arg-type]
                         f"{PLACE_EN} – SMS codes")
        )
    return sources
