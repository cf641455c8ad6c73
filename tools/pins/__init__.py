"""Pins you can trust: every chart, image and EKS version the project pins, checked against facts.

- :mod:`~tools.pins.inventory` finds every pin: HelmRelease/OCIRepository/HelmRepository in the
  rendered GitOps tree, the bootstrap stacks' ``helm_release`` resources, container images
  (manifests, chart values, CI), the EKS Kubernetes and add-on versions of every environment;
- :mod:`~tools.pins.sources` answers "is this released / published?" from the upstream
  catalog next to the checkout (offline) or from the registries themselves (online);
- :mod:`~tools.pins.values` checks every values key the project sets against the chart's
  ``values.yaml`` / ``values.schema.json`` (free-form maps are listed once, with reasons);
- :mod:`~tools.pins.checks` runs the four checks and returns one line per finding;
- :mod:`~tools.pins.upstream` materializes the upstream files the tests need (CRDs, chart
  values) from pinned URLs with sha256 sums, reading local copies when they exist;
- :mod:`~tools.pins.render` renders every HelmRelease at its pinned version with Helm.

    python -m tools.pins check [--source catalog|registries|auto] [--synth cdktf.out]
    python -m tools.pins render [--synth cdktf.out]
    python -m tools.pins upstream [--offline]
"""
