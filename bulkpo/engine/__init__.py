"""The kind-agnostic submission engine: pacing and retries, exactly-once writes, the journal."""
