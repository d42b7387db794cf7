"""The static HTML report: LCE figures, correlation heat-map, landscapes, exemplar strips."""
