"""Security: the environment CA and listener certificates a topology may tune.

Owns: ``Security`` (validities, early renewal, key algorithm) and its own consistency (renewal before expiry, no
certificate outliving its CA).

Deliberately not here: the certificates themselves (``components.pki``).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from stacks.model.base import Strict


class KeyAlgorithm(StrEnum):
    ECDSA = "ECDSA"
    RSA = "RSA"


class Security(Strict):
    ca_validity_days: int = Field(default=3650, ge=30, le=36500, description="Validity of the environment CA.")
    cert_validity_days: int = Field(default=365, ge=7, le=3650, description="Validity of listener certificates.")
    early_renewal_days: int = Field(default=30, ge=1, le=365, description="Renew certificates this long before expiry.")
    key_algorithm: KeyAlgorithm = Field(default=KeyAlgorithm.ECDSA, description="ECDSA (P-256) or RSA (3072 bits).")

    @model_validator(mode="after")
    def _renewal(self) -> Security:
        if self.early_renewal_days >= self.cert_validity_days:
            raise ValueError(
                f"early_renewal_days {self.early_renewal_days} ≥ cert_validity_days {self.cert_validity_days} "
                "would renew on every run; keep it below the validity"
            )
        if self.cert_validity_days > self.ca_validity_days:
            raise ValueError("cert_validity_days may not exceed ca_validity_days: a certificate cannot outlive its CA")
        return self
