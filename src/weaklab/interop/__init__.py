"""Exchange with other tools: :mod:`weaklab.interop.labelstudio` (Label Studio tasks out, answers in)."""
