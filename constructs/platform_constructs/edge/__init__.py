"""The edge: DNS zone, ACM certificate, the internet-facing ALB and its path to the nodes."""
