"""S3 storage: the hardened bucket, and the platform's buckets built from it."""
