"""The records lookup's adapters: the operator's own system over HTTP, its deployment-file
section, and a stand-in acquirer for trials and tests."""
