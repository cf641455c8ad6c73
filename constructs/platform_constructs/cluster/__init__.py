"""The EKS cluster: control plane, node groups, add-ons, access, and workload identities."""
