"""Identity documents of applicants (RULES §2, Reg. 29): which document, and whether its number can be real."""

from identity.documents import (
    DOCUMENT_LABELS, ORGANISATION_DOCUMENTS, PERSON_DOCUMENTS, IdentityError, checked_identity, credit_code,
    default_document, resident_id,
)

__all__ = ["DOCUMENT_LABELS", "ORGANISATION_DOCUMENTS", "PERSON_DOCUMENTS", "IdentityError", "checked_identity", "credit_code", "resident_id",
           "default_document"]
