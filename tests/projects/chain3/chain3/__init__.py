"""A Keras 2 (tf.keras) package: kerasfix must see through three levels of base classes.

Lines that kerasfix must report end with the comment `# expect`
(tests/test_project_chain.py, tests/corpus_metrics.py).
"""
