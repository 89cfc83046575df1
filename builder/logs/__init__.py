"""Transport analysis of debug logs: one analyser module per library, one shared evidence model."""
