"""The RL training set's sources, DeepCoder's curation and the decontamination report (see repro.data for the schema).

  sources.py        TACO-verified and PrimeIntellect SYNTHETIC-1 records -> training rows (exact test shapes)
  curation.py       DeepCoder's filters: enough tests, the gold solution passes, one copy of each statement
  decontamination.py statement n-gram overlap against the evaluation problems, written as JSON + markdown
  build.py          `python -m repro.datasets.build`: curate rows into DIR/train.jsonl with both reports
"""
