"""Credit risk, pure and database-free: scorecard training and scoring, validation, decisions and limits.

scorecard.py   optimal WOE binning (optbinning) + logistic regression -> a `Scorecard` that scores
               without either library and round-trips through a JSON-able dict; its content hash is
               its version
validation.py  AUC, KS, Gini, PSI on the model's frozen bins, calibration by grade
decisions.py   score -> PD -> grade, reason codes in words, credit limits per product, expected loss
products.py    the loan products (products.json) as frozen dataclasses
registry.py    the model-registry interface and an in-memory registry
german.py      the German Credit data (vendored CSV) for `wuxin bench credit`
"""
