"""What the bootstrap stack installs in the cluster: Flux and Vault, through helm."""
