"""Review: rubrics, scores, normalisation, moderation, ranking and suggested selection.

The computation core lives in :mod:`grants.review.scoring`; it is plain Python (no
database, no Pyramid) so it can be tested and benchmarked on its own.
"""
