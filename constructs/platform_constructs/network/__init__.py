"""The VPC of an environment."""
