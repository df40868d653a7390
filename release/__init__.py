"""The files that answer an item (RULES §14, Reg. 37): intake checks, text per page, the file
pre-screen, and redaction that removes. Pure of the database and Temporal; OCR runs Debian's
tesseract (tesseract-ocr + tesseract-ocr-chi-sim, installed by the Makefile) in a subprocess.
"""
