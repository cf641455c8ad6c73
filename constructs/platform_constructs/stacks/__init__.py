"""The three stacks of an environment: state, platform (AWS) and bootstrap (in-cluster)."""
