"""What smart approval's API and pages take and give (pydantic v2), with bounds on every field.

Sections by what they serve; each section's classes are used by its service module and by the
routes and pages alike.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------
# Cases: submission, acceptance, correction request, decision (cases.py)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Pre-filled forms and drafts (prefill.py)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Uploads and the pre-check of materials (precheck/)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# E-licences, ratings and follow-ups, metrics (licences.py, ratings.py, metrics.py)
# ---------------------------------------------------------------------------------------------
