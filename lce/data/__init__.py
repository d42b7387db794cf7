"""Labelled image datasets that install offline from packages."""
