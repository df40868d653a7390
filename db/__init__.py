"""The database copy: tables (models.py: the application and its timeline; models_*.py by topic), sessions and queries.

Every table is registered here, on the first import of anything in db/ (create_all, Alembic and the metadata tests
see them all); the table modules import only db/columns.py and db/models.py, never one another in a circle.
"""

from db import (  # noqa: F401
    models,
    models_agency,  # the agencies on the platform; application links (issue 25)
    models_fees,  # fees: applicants' identities for 按件计收, fee records for the annual report
    models_idempotency,  # Idempotency-Key: retried POSTs answered once
    models_letters,  # letters: documents, outbox, attachments
    models_participation,  # public participation: drafts for comment, comments, 在线咨询
    models_proactive,  # 政务公开: catalogue, interpretations, public opinion
    models_release,  # files released with a reply: screening, findings, redactions (issue 22)
    models_reports,  # report-grade records, remedies register, annual reports, assessment, accountability
    models_security,  # security tables: staff users, query codes, third-party links, audit
)
