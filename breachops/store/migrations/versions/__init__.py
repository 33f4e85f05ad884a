"""Revisions, oldest first. A package only so that the files ship in the wheel."""
