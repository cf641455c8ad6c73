"""The edge inside the cluster: Envoy Gateway behind the ALB, its routes, DNS and the upstream CRDs.

The ALB side of the path (listener, target group, node security group) is followed hop by hop
in tests/test_edge.py; this module follows it from the node port on: the proxies' Service, the
Gateway, the health check the target group probes, the routes, and external-dns.
"""

from __future__ import annotations

from typing import Any

import pytest
from gitops_tree import ENVIRONMENTS, REPO, Tree, crd_errors, environment, tree_of

from platform_constructs import contract
from tools.pins.crds import CRD_SOURCES
from tools.pins.upstream import pinned_files

GATEWAY = ("edge", "envoy-gateway-system")
#: The labels Envoy Gateway v1.9.0 puts on the proxies of a Gateway
#: (internal/infrastructure/kubernetes/proxy/resource.go, internal/gatewayapi/translator.go).
PROXY_LABELS = {
    "app.kubernetes.io/name": "envoy",
    "app.kubernetes.io/component": "proxy",
    "gateway.envoyproxy.io/owning-gateway-name": GATEWAY[0],
    "gateway.envoyproxy.io/owning-gateway-namespace": GATEWAY[1],
}


def _gateway(tree: Tree) -> dict[str, Any]:
    return tree.one("Gateway", *GATEWAY)


def _envoy_proxy(tree: Tree) -> dict[str, Any]:
    gateway_class = tree.one("GatewayClass", _gateway(tree)["spec"]["gatewayClassName"])
    ref = gateway_class["spec"]["parametersRef"]
    assert (ref["group"], ref["kind"]) == ("gateway.envoyproxy.io", "EnvoyProxy")
    return tree.one("EnvoyProxy", ref["name"], ref["namespace"])


def _kubernetes(tree: Tree) -> dict[str, Any]:
    provider = _envoy_proxy(tree)["spec"]["provider"]
    assert provider["type"] == "Kubernetes"
    kubernetes: dict[str, Any] = provider["kubernetes"]
    return kubernetes


def _listener_ports(tree: Tree) -> set[int]:
    return {listener["port"] for listener in _gateway(tree)["spec"]["listeners"]}


# --- from the node port to the proxies ---------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_proxies_listen_on_the_node_port_the_albs_target_group_forwards_to(env: str) -> None:
    tree = tree_of(env)
    service = _kubernetes(tree)["envoyService"]
    assert service["type"] == "NodePort", "a cloud load balancer of its own would bypass the Terraform ALB"
    ports = service["patch"]["value"]["spec"]["ports"]
    assert service["patch"]["type"] == "StrategicMerge"
    assert [p["nodePort"] for p in ports] == [environment(env).edge.ingress_node_port]
    assert {p["port"] for p in ports} == _listener_ports(tree) == {80}, "the patched Service port is the listener's"
    # Every node is a target; with Local, nodes without a proxy would fail the health check.
    assert service["externalTrafficPolicy"] == "Cluster"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_nothing_in_the_tree_asks_for_a_cloud_load_balancer(env: str) -> None:
    tree = tree_of(env)
    assert [r.ref for r in tree.find("Service") if r.obj["spec"].get("type") == "LoadBalancer"] == []
    assert not tree.find("Ingress"), "the Gateway is the only way in"
    assert _kubernetes(tree)["envoyService"]["type"] != "LoadBalancer"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_proxies_answer_the_path_the_target_group_probes_themselves(env: str) -> None:
    tree = tree_of(env)
    (policy,) = [r.obj for r in tree.find("ClientTrafficPolicy", namespace=GATEWAY[1])]
    assert policy["spec"]["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY[0]}]
    # Envoy Gateway installs Envoy's health_check filter for this path on the listener
    # (internal/xds/translator/healthcheck.go): a 200 from the proxy itself, before routing,
    # and a 503 while it shuts down.
    assert policy["spec"]["healthCheck"]["path"] == contract.INGRESS_HEALTH_CHECK_PATH
    assert tree.outputs["INGRESS_HEALTH_CHECK_PATH"] == contract.INGRESS_HEALTH_CHECK_PATH
    assert policy["spec"]["clientIPDetection"]["xForwardedFor"]["numTrustedHops"] == 1, "the ALB is the one trusted hop"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_gateway_of_a_class_envoy_gateway_runs(env: str) -> None:
    tree = tree_of(env)
    assert [r.ref for r in tree.find("Gateway")] == [f"infra-configs: Gateway {GATEWAY[1]}/{GATEWAY[0]}"]
    gateway_class = tree.one("GatewayClass", _gateway(tree)["spec"]["gatewayClassName"])
    controller = tree.helm_values("envoy-gateway", GATEWAY[1])["config"]["envoyGateway"]["gateway"]["controllerName"]
    assert gateway_class["spec"]["controllerName"] == controller
    values = tree.helm_values("envoy-gateway", GATEWAY[1])
    assert values["crds"]["enabled"] is False, "the CRDs come from upstream, standard channel (clusters/base/crds.yaml)"


def test_prod_runs_more_proxies_than_dev_and_drains_them_one_at_a_time() -> None:
    def replicas(env: str) -> int:
        return int(_kubernetes(tree_of(env))["envoyDeployment"]["replicas"])

    assert replicas("dev") < replicas("stage") < replicas("prod")
    for env in ("stage", "prod"):
        assert _kubernetes(tree_of(env))["envoyPDB"] == {"maxUnavailable": 1}
    assert "envoyPDB" not in _kubernetes(tree_of("dev")), "one proxy and a budget of one would block every node drain"


# --- routes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_routes_attach_only_from_the_public_namespaces_and_only_for_the_environments_domain(env: str) -> None:
    tree = tree_of(env)
    domain = tree.outputs["DOMAIN"]
    listeners = _gateway(tree)["spec"]["listeners"]
    assert sorted(listener["hostname"] for listener in listeners) == sorted([domain, f"*.{domain}"])
    for listener in listeners:
        assert listener["protocol"] == "HTTP", "TLS ends at the ALB"
        namespaces = listener["allowedRoutes"]["namespaces"]
        assert namespaces["from"] == "Selector"
        assert namespaces["selector"] == {
            "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": [contract.APP_NAMESPACE, "monitoring"]}]
        }
        assert listener["allowedRoutes"]["kinds"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}]


def _grafana_route(tree: Tree) -> dict[str, Any]:
    """The HTTPRoute the Grafana chart renders from these values (its templates/route.yaml)."""
    route = tree.helm_values("kube-prometheus-stack", "monitoring")["grafana"]["route"]["main"]
    assert route["enabled"] is True
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "kube-prometheus-stack-grafana", "namespace": "monitoring"},
        "spec": {
            "parentRefs": route["parentRefs"],
            "hostnames": route["hostnames"],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [{"name": "kube-prometheus-stack-grafana", "port": 80}],
                }
            ],
        },
    }


def _backend_route(tree: Tree) -> dict[str, Any]:
    """The HTTPRoute Flagger creates for the backend's Canary (pkg/router/gateway_api.go at
    v1.44.0: named after the service, parents = gatewayRefs, hostnames = hosts, the primary
    and the canary Service as weighted backends on the service port)."""
    canary = tree.one("Canary", "backend", contract.APP_NAMESPACE)["spec"]
    service = canary.get("service", {})
    name = service.get("name", canary["targetRef"]["name"])
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": contract.APP_NAMESPACE},
        "spec": {
            "parentRefs": service["gatewayRefs"],
            "hostnames": service["hosts"],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [
                        {"name": f"{name}-primary", "port": service["port"], "weight": 100},
                        {"name": f"{name}-canary", "port": service["port"], "weight": 0},
                    ],
                }
            ],
        },
    }


def _attaches(tree: Tree, route: dict[str, Any]) -> bool:
    """Whether ``route`` attaches to the edge Gateway: a parent ref to it, a namespace it admits,
    and a hostname one of its listeners serves."""
    gateway = _gateway(tree)
    parents = [p for p in route["spec"]["parentRefs"] if (p["name"], p.get("namespace", route["metadata"]["namespace"])) == GATEWAY]
    if not parents:
        return False
    for listener in gateway["spec"]["listeners"]:
        allowed = listener["allowedRoutes"]["namespaces"]["selector"]["matchExpressions"][0]["values"]
        pattern = listener["hostname"]
        for host in route["spec"]["hostnames"]:
            matches = host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:]) and host.count(".") == pattern.count("."))
            if matches and route["metadata"]["namespace"] in allowed:
                return True
    return False


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_backend_and_grafana_are_public_and_their_routes_validate_and_attach(env: str) -> None:
    tree = tree_of(env)
    domain = tree.outputs["DOMAIN"]
    routes = {"backend": _backend_route(tree), "grafana": _grafana_route(tree)}
    assert routes["backend"]["spec"]["hostnames"] == [domain]
    assert routes["grafana"]["spec"]["hostnames"] == [f"grafana.{domain}"]
    for name, route in routes.items():
        assert crd_errors(route, f"{env}: HTTPRoute of {name}") == []
        assert _attaches(tree, route), f"{env}: the {name} route would not attach to the edge Gateway"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_internal_uis_stay_internal(env: str) -> None:
    tree = tree_of(env)
    kps = tree.helm_values("kube-prometheus-stack", "monitoring")
    for component in ("prometheus", "alertmanager"):
        assert not kps.get(component, {}).get("ingress", {}).get("enabled"), component
        assert not kps.get(component, {}).get("route", {}).get("main", {}).get("enabled"), component
    assert not kps["grafana"].get("ingress", {}).get("enabled"), "Grafana is routed through the Gateway, not an Ingress"
    assert not tree.find("HTTPRoute") and not tree.find("Ingress"), "the public routes are Flagger's and Grafana's only"


def test_an_outside_hostname_or_namespace_would_not_attach() -> None:
    tree = tree_of("dev")
    route = _backend_route(tree)
    assert not _attaches(tree, {**route, "spec": {**route["spec"], "hostnames": ["plato.example.org"]}})
    assert not _attaches(tree, {**route, "metadata": {**route["metadata"], "namespace": "default"}})


# --- DNS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_external_dns_publishes_the_routes_of_the_edge_gateway_as_aliases_of_the_alb(env: str) -> None:
    tree = tree_of(env)
    values = tree.helm_values("external-dns", "external-dns")
    assert values["sources"] == ["gateway-httproute"]
    assert values["gatewayNamespace"] == GATEWAY[1]
    # external-dns takes a Gateway's targets from this annotation, else from its status
    # addresses, which for a NodePort Gateway are node IPs (docs/sources/gateway-api.md).
    assert _gateway(tree)["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/target"] == tree.outputs["ALB_DNS_NAME"]
    assert values["domainFilters"] == [tree.outputs["DOMAIN"]]
    assert f"--zone-id-filter={tree.outputs['HOSTED_ZONE_ID']}" in values["extraArgs"]


# --- the backend's NetworkPolicy admits these proxies ----------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_backend_admits_the_proxies_of_the_edge_gateway_and_they_scrape_as_prometheus_expects(env: str) -> None:
    tree = tree_of(env)
    policy = tree.one("NetworkPolicy", "backend", contract.APP_NAMESPACE)["spec"]
    (peer,) = policy["ingress"][0]["from"]
    assert peer["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": GATEWAY[1]}}
    assert peer["podSelector"]["matchLabels"].items() <= PROXY_LABELS.items()
    monitor = tree.one("PodMonitor", "envoy-proxies", GATEWAY[1])["spec"]
    assert monitor["selector"]["matchLabels"].items() <= PROXY_LABELS.items()
    assert monitor["podMetricsEndpoints"] == [{"port": "metrics", "path": "/stats/prometheus", "interval": "15s"}]


# --- the upstream CRDs ---------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_upstream_crds_flux_applies_are_the_ones_the_tests_validate_against(env: str) -> None:
    tree = tree_of(env)
    upstream = {s.installer: s for s in CRD_SOURCES if s.repository}
    assert len(tree.upstream) == len(upstream) == 2
    for name, applied in tree.upstream.items():
        (source,) = [s for s in upstream.values() if s.repository == applied.url]
        assert (applied.tag, applied.path) == (source.version, source.path), name
        spec = applied.kustomization["spec"]
        assert spec["prune"] is False, f"{name}: pruning a CRD deletes every object of its kind"
        assert spec["wait"] is True
        assert applied.repository["spec"]["sparseCheckout"] == [source.path]
        owner_repo = source.repository.removeprefix("https://github.com/")
        files = [f for p, f in pinned_files().items() if any(p.startswith(prefix) for prefix in source.prefixes) and p.endswith(".yaml")]
        assert files, name
        for pinned in files:
            assert pinned.url.startswith(f"https://raw.githubusercontent.com/{owner_repo}/{source.commit}/{source.path}/"), pinned.url


def test_the_envoy_gateway_crds_and_chart_are_one_release() -> None:
    tree = tree_of("dev")
    chart_tag = tree.one("OCIRepository", "envoy-gateway", GATEWAY[1])["spec"]["ref"]["tag"]
    (crds,) = [u for u in tree.upstream.values() if u.url == "https://github.com/envoyproxy/gateway"]
    assert crds.tag == chart_tag


def test_no_trace_of_the_retired_controller_is_left_outside_the_decision_records() -> None:
    retired = "ingress" + "-nginx"
    offenders = [
        str(path.relative_to(REPO))
        for top in (
            "gitops",
            "constructs",
            "environments",
            "tests",
            "tools",
            "snapshots",
            "README.md",
            "main.py",
            ".gitlab-ci.yml",
            "renovate.json",
        )
        for path in ([REPO / top] if (REPO / top).is_file() else sorted((REPO / top).rglob("*")))
        if path.is_file()
        and "node_modules" not in path.parts
        and "__pycache__" not in path.parts
        and retired in path.read_text(errors="ignore")
    ]
    assert offenders == []
