"""The limits AWS and Kubernetes enforce on names, tags, labels and addresses, as checks.

Each function returns ``None`` when the value is acceptable, else the rule it breaks, as
text that completes "<field>: ...". The configuration model calls them where each value is
given or derived, so a value AWS would refuse in the middle of a deploy stops the synth
instead, in one line.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable

ASCII_DIGITS = re.compile(r"^[0-9]+$")
_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ROLE_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):role/([\w+=,.@/-]{1,512})$", re.ASCII)
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_K8S_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_ELB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
_RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_INTERNET = ipaddress.IPv4Network("0.0.0.0/0")

#: S3 bucket names AWS reserves: prefixes and suffixes a bucket may not use
#: (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
#: Tags per AWS resource (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html).
MAX_TAGS_PER_RESOURCE = 50


def dns_name(value: str, *, max_length: int = 253) -> str | None:
    """A lower-case DNS name of at least two labels."""
    if not value.isascii():
        return f"'{value}' is not an ASCII DNS name (use its punycode form)"
    labels = value.split(".")
    if len(value) > max_length:
        return f"'{value}' is {len(value)} characters long; the limit is {max_length}"
    if len(labels) < 2 or not all(_DNS_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        return f"'{value}' is not a valid lower-case DNS domain name"
    return None


def s3_bucket(name: str) -> str | None:
    """S3's general-purpose bucket naming rules, and no dots (virtual-hosted TLS breaks on them)."""
    if not 3 <= len(name) <= 63:
        return f"'{name}' is {len(name)} characters long; S3 bucket names have 3 to 63"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", name):
        return f"'{name}' is not a valid S3 bucket name (lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit)"
    if ".." in name or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        return f"'{name}' is not a valid S3 bucket name (no two adjacent dots, not an IP address)"
    for prefix in S3_RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"'{name}' starts with '{prefix}', which S3 reserves"
    for suffix in S3_RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"'{name}' ends with '{suffix}', which S3 reserves"
    if "." in name:
        return f"'{name}' contains a dot: virtual-hosted TLS to S3 breaks on dotted bucket names"
    return None


def elb_name(name: str, what: str, *, derived: bool = True) -> str | None:
    """Load balancer and target group names: 1-32 letters, digits and hyphens."""
    subject = f"the {what} name '{name}' it derives" if derived else f"'{name}'"
    if len(name) > 32:
        return f"{subject} is {len(name)} characters long; AWS allows 32"
    if not _ELB_NAME.fullmatch(name):
        return f"{subject} may hold only letters, digits and inner hyphens"
    if name.startswith("internal-"):
        return f"{subject} starts with 'internal-', which AWS reserves"
    return None


def _tag_text(text: str) -> bool:
    """Letters, numbers and spaces of any script, and ``_ . : / = + - @`` (AWS's tag character set)."""
    return all(unicodedata.category(c)[0] in "LN" or unicodedata.category(c) == "Zs" or c in "_.:/=+-@" for c in text)


def tag_key(key: str) -> str | None:
    if not 1 <= len(key) <= 128:
        return f"tag key '{key}' has {len(key)} characters; AWS allows 1 to 128"
    if not _tag_text(key):
        return f"tag key '{key}' holds a character AWS tags do not allow (letters, digits, spaces and _ . : / = + - @)"
    if key.lower().startswith("aws:"):
        return f"tag key '{key}' starts with 'aws:', which AWS reserves"
    return None


def tag_value(key: str, value: str) -> str | None:
    if len(value) > 256:
        return f"the value of tag '{key}' has {len(value)} characters; AWS allows 256"
    if not _tag_text(value):
        return f"the value of tag '{key}' holds a character AWS tags do not allow (letters, digits, spaces and _ . : / = + - @)"
    return None


def k8s_label_key(key: str) -> str | None:
    """``[prefix/]name``: a DNS-subdomain prefix of at most 253 characters, a name of at most 63."""
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return f"label key '{key}' has an invalid prefix '{prefix}' (a lower-case DNS subdomain)"
    if not _K8S_NAME.fullmatch(name):
        return f"label key '{key}' is not a valid Kubernetes label name (at most 63 letters, digits, '-', '_' or '.', alphanumeric at both ends)"
    if prefix.endswith(("kubernetes.io", "k8s.io")) or prefix == "eks.amazonaws.com":
        return f"label key '{key}' uses a prefix Kubernetes or EKS reserves ({prefix})"
    return None


def k8s_label_value(key: str, value: str) -> str | None:
    if value and not _K8S_NAME.fullmatch(value):
        return f"the value '{value}' of label '{key}' is not a valid Kubernetes label value (at most 63 letters, digits, '-', '_' or '.')"
    return None


def cidr(value: str) -> ipaddress.IPv4Network | str:
    """An IPv4 network in canonical notation (``10.0.0.0/16``), or the rule it breaks."""
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        try:
            return f"'{value}' has host bits set; the network is '{ipaddress.IPv4Network(value, strict=False)}'"
        except ValueError:
            return f"'{value}' is not a valid IPv4 CIDR block ({exc})"
    if str(network) != value:
        return f"'{value}' is not in canonical notation; write '{network}'"
    return network


def rfc1918(network: ipaddress.IPv4Network) -> bool:
    return any(network.subnet_of(block) for block in _RFC1918)


def covers_internet(networks: Iterable[ipaddress.IPv4Network]) -> bool:
    """Whether the networks, taken together, cover every IPv4 address (``0.0.0.0/1`` + ``128.0.0.0/1`` too)."""
    return list(ipaddress.collapse_addresses(networks)) == [_INTERNET]


def role_arn(value: str) -> tuple[str, str, str] | str:
    """(partition, account, role path/name) of an IAM role ARN, or the rule it breaks."""
    match = _ROLE_ARN.fullmatch(value)
    if not match:
        return f"'{value}' is not an IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>)"
    name = match.group(3).rsplit("/", 1)[-1]
    if not _ROLE_NAME.fullmatch(name):
        return f"'{value}' has a role name of more than 64 characters or with characters IAM refuses"
    return match.group(1), match.group(2), match.group(3)
