"""Evaluating a training (issue 25): the satisfaction survey's index (``skm``); the pre- and
post-test and the materials come next."""
