"""Annual report, remedies deadlines, assessment and accountability rules (RULES §10-11). Pure: no I/O.

I/O lives in db/reports_repository.py (queries) and the renderers reports/pdf.py, reports/xlsx.py
(which read only a font file).
"""
