"""An ACM certificate for a domain and its wildcard, validated through Route53."""

from __future__ import annotations

from cdktf import TerraformIterator, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct

from platform_constructs.checkov import skip_check


class DnsValidatedCertificate:
    """Adds the certificate, its validation records and the validation wait to ``scope``.

    The certificate is replaced before it is destroyed, so the listener never loses it.
    """

    def __init__(self, scope: Construct, *, domain: str, hosted_zone_id: str) -> None:
        self.certificate = AcmCertificate(
            scope,
            "certificate",
            domain_name=domain,
            subject_alternative_names=[f"*.{domain}"],
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        skip_check(
            self.certificate,
            "CKV2_AWS_71",
            "the wildcard is required: every application host under the environment's domain is served by this one ALB",
        )
        # Iterate the set itself, keyed by domain: `tolist()` of a set that still holds unknown
        # values (a new certificate) is wholly unknown at plan time, and for_each refuses it.
        options = TerraformIterator.from_map(
            Token.as_any_map(f"${{{{ for dvo in {self.certificate.fqn}.domain_validation_options : dvo.domain_name => dvo }}}}")
        )
        records = Route53Record(
            scope,
            "certificate-validation-record",
            for_each=options,
            zone_id=hosted_zone_id,
            name=options.get_string("resource_record_name"),
            type=options.get_string("resource_record_type"),
            records=[options.get_string("resource_record_value")],
            ttl=60,
            allow_overwrite=True,  # apex and wildcard share one validation record
        )
        self.validation = AcmCertificateValidation(
            scope,
            "certificate-validation",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=Token.as_list(f"${{[for record in {records.fqn} : record.fqdn]}}"),
        )

    @property
    def validated_arn(self) -> str:
        """The certificate's ARN once validated: what a listener may use."""
        return str(self.validation.certificate_arn)
