"""The seed's points about the project-plato workload, on what Flux applies in each
environment."""

from __future__ import annotations

from typing import Any

import pytest
from gitops_tree import ENVIRONMENTS, Tree, all_trees, iter_pod_specs, tree_of

from platform_constructs import contract

NS = contract.APP_NAMESPACE


def _pod(tree: Tree, kind: str, name: str) -> dict[str, Any]:
    template: dict[str, Any] = tree.one(kind, name, NS)["spec"]["template"]
    return template


def _container(tree: Tree, kind: str, name: str) -> dict[str, Any]:
    containers = _pod(tree, kind, name)["spec"]["containers"]
    assert len(containers) == 1, f"{kind} {name}: expected one container"
    container: dict[str, Any] = containers[0]
    return container


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a LabelSelector (matchLabels/matchExpressions) selects ``labels``."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _policies_for(tree: Tree, labels: dict[str, str], direction: str) -> list[dict[str, Any]]:
    """NetworkPolicies of the namespace that apply to pods with ``labels`` in ``direction``."""
    found = []
    for rendered in tree.find("NetworkPolicy", namespace=NS):
        spec = rendered.obj["spec"]
        types = spec.get("policyTypes") or (["Ingress"] + (["Egress"] if "egress" in spec else []))
        if direction in types and _selects(spec["podSelector"], labels):
            found.append(rendered.obj)
    return found


def _rules(policies: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    return [rule for policy in policies for rule in policy["spec"].get(field, [])]


def _ports(rule: dict[str, Any]) -> set[tuple[str, int]]:
    assert rule.get("ports"), f"a rule without ports admits every port: {rule}"
    return {(port.get("protocol", "TCP"), port["port"]) for port in rule["ports"]}


def _labels(tree: Tree, kind: str, name: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in _pod(tree, kind, name)["metadata"]["labels"].items()}


def _primary_labels(labels: dict[str, str]) -> dict[str, str]:
    # Flagger's primary pods carry the target's labels with the selector label renamed.
    return {**labels, "app.kubernetes.io/name": f"{labels['app.kubernetes.io/name']}-primary"}


# --- 1. the namespace and its three workloads ---------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_project_plato_runs_the_backend_db1_on_redis_and_db2_on_postgres(env: str) -> None:
    tree = tree_of(env)
    assert tree.one("Namespace", NS)
    assert _container(tree, "Deployment", "backend")
    assert _container(tree, "Deployment", "db1")["image"].startswith("redis:")
    assert _container(tree, "StatefulSet", "db2")["image"].startswith("postgres:")
    for name, port in (("db1", 6379), ("db2", 5432)):
        service = tree.one("Service", name, NS)["spec"]
        assert [p["port"] for p in service["ports"]] == [port], name
        assert _selects({"matchLabels": service["selector"]}, _labels(tree, "Deployment" if name == "db1" else "StatefulSet", name))


# --- 2. the readiness probe -----------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backend_has_a_readiness_probe_on_its_serving_port(env: str) -> None:
    tree = tree_of(env)
    container = _container(tree, "Deployment", "backend")
    probe = container.get("readinessProbe")
    assert probe, "the backend has no readiness probe"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    http = probe["httpGet"]
    assert http["port"] in ports or http["port"] in ports.values(), f"probe port {http['port']} is not a container port"
    assert http["path"].startswith("/")
    assert probe.get("failureThreshold", 3) >= 1 and probe.get("periodSeconds", 10) <= 10


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backend_has_a_liveness_probe_limits_and_runs_non_root_on_a_read_only_root(env: str) -> None:
    tree = tree_of(env)
    pod = _pod(tree, "Deployment", "backend")["spec"]
    container = _container(tree, "Deployment", "backend")
    assert container["livenessProbe"]
    resources = container["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(resources["limits"])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    # Writable paths are volumes, not the image's filesystem.
    mounted = {m["name"] for m in container["volumeMounts"] if not m.get("readOnly")}
    assert mounted and all("emptyDir" in v for v in pod["volumes"] if v["name"] in mounted)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_project_plato_pod_meets_the_restricted_pod_security_standard(env: str) -> None:
    tree = tree_of(env)
    namespace = tree.one("Namespace", NS)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = list(iter_pod_specs(tree, NS))
    assert len(pods) == 3
    for rendered, pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True, rendered.ref
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", rendered.ref
        assert pod.get("automountServiceAccountToken") is False, rendered.ref
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, rendered.ref
            assert context["readOnlyRootFilesystem"] is True, rendered.ref
            assert context["capabilities"]["drop"] == ["ALL"], rendered.ref
            assert container.get("readinessProbe") and container.get("livenessProbe"), rendered.ref
            assert container["resources"].get("limits", {}).get("memory"), rendered.ref


# --- 3. the NetworkPolicy -------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_pod_in_project_plato_is_denied_by_default(env: str) -> None:
    tree = tree_of(env)
    deny = [
        p.obj
        for p in tree.find("NetworkPolicy", namespace=NS)
        if p.obj["spec"]["podSelector"] == {}
        and set(p.obj["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p.obj["spec"].get("ingress")
        and not p.obj["spec"].get("egress")
    ]
    assert len(deny) == 1, "project-plato needs one default-deny policy for ingress and egress"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backend_may_reach_exactly_db1_on_6379_db2_on_5432_and_dns(env: str) -> None:
    tree = tree_of(env)
    db1, db2 = _labels(tree, "Deployment", "db1"), _labels(tree, "StatefulSet", "db2")
    dns = ({"kubernetes.io/metadata.name": "kube-system"}, {"k8s-app": "kube-dns"})
    backend = _labels(tree, "Deployment", "backend")
    for labels in (backend, _primary_labels(backend)):
        allowed: set[tuple[str, str, int]] = set()
        for rule in _rules(_policies_for(tree, labels, "Egress"), "egress"):
            assert rule.get("to"), f"an egress rule without 'to' admits every destination: {rule}"
            for peer in rule["to"]:
                assert "ipBlock" not in peer, f"the backend may not reach addresses outside the cluster: {peer}"
                namespace = peer.get("namespaceSelector")
                pods = peer.get("podSelector")
                assert pods is not None, f"a peer without podSelector admits a whole namespace: {peer}"
                if namespace is None:
                    targets = [name for name, lbls in (("db1", db1), ("db2", db2)) if _selects(pods, lbls)]
                elif _selects(namespace, dns[0]) and _selects(pods, dns[1]) and pods.get("matchLabels") == dns[1]:
                    targets = ["dns"]
                else:
                    targets = []
                assert len(targets) == 1, f"egress peer {peer} selects {targets or 'something else'}"
                allowed |= {(targets[0], protocol, port) for protocol, port in _ports(rule)}
        expected = {("db1", "TCP", 6379), ("db2", "TCP", 5432), ("dns", "UDP", 53), ("dns", "TCP", 53)}
        assert allowed == expected, f"pods {labels['app.kubernetes.io/name']} may reach {sorted(allowed)}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_db1_and_db2_admit_only_the_backend_on_their_own_port(env: str) -> None:
    tree = tree_of(env)
    backend = _labels(tree, "Deployment", "backend")
    for kind, name, port in (("Deployment", "db1", 6379), ("StatefulSet", "db2", 5432)):
        rules = _rules(_policies_for(tree, _labels(tree, kind, name), "Ingress"), "ingress")
        assert rules, f"{name} admits nothing: the backend could not reach it"
        for rule in rules:
            assert _ports(rule) == {("TCP", port)}, f"{name}: {rule}"
            for peer in rule["from"]:
                assert set(peer) == {"podSelector"}, f"{name} admits traffic from outside the namespace: {peer}"
                assert _selects(peer["podSelector"], backend) and _selects(peer["podSelector"], _primary_labels(backend))
                assert not _selects(peer["podSelector"], _labels(tree, "Deployment", "db1"))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backend_admits_requests_only_from_the_edge_gateways_proxies(env: str) -> None:
    tree = tree_of(env)
    container = _container(tree, "Deployment", "backend")
    port = container["ports"][0]["containerPort"]
    backend = _labels(tree, "Deployment", "backend")
    for labels in (backend, _primary_labels(backend)):
        rules = _rules(_policies_for(tree, labels, "Ingress"), "ingress")
        assert len(rules) == 1
        assert _ports(rules[0]) == {("TCP", port)}
        assert rules[0]["from"] == [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}},
                "podSelector": {
                    "matchLabels": {
                        "app.kubernetes.io/name": "envoy",
                        "app.kubernetes.io/component": "proxy",
                        "gateway.envoyproxy.io/owning-gateway-name": "edge",
                    }
                },
            }
        ]


# --- 4. the Secret as ADMIN_* variables in db2 -----------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_db2_receives_every_key_of_its_secret_as_an_admin_variable(env: str) -> None:
    tree = tree_of(env)
    external = tree.one("ExternalSecret", "db2-admin", NS)["spec"]
    secret_name = external["target"]["name"]
    keys = {item["secretKey"] for item in external["data"]}
    assert keys and all(key.startswith("ADMIN_") for key in keys), keys
    variables = {item["name"]: item for item in _container(tree, "StatefulSet", "db2")["env"]}
    for key in keys:
        assert key in variables, f"db2 has no {key} variable"
        assert variables[key]["valueFrom"]["secretKeyRef"] == {"name": secret_name, "key": key}, key
    admin_vars = {name for name in variables if name.startswith("ADMIN_")}
    assert admin_vars == keys, f"ADMIN_* variables {admin_vars} do not match the Secret's keys {keys}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_db2_secret_is_read_from_vault_not_committed(env: str) -> None:
    tree = tree_of(env)
    external = tree.one("ExternalSecret", "db2-admin", NS)["spec"]
    store_ref = external["secretStoreRef"]
    store = tree.one(store_ref["kind"], store_ref["name"])["spec"]
    vault = store["provider"]["vault"]
    assert vault["server"] == "https://vault.vault.svc:8200"
    assert vault["caProvider"]["namespace"] == "vault", "TLS to Vault must be verified against its CA"
    assert store["conditions"] == [{"namespaces": [NS]}], "the store must serve project-plato only"
    auth = vault["auth"]["kubernetes"]["serviceAccountRef"]
    assert tree.one("ServiceAccount", auth["name"], auth["namespace"])
    assert all(item["remoteRef"]["key"].startswith(f"{NS}/") for item in external["data"])
    assert not tree.find("Secret"), "no Secret may be committed"


# --- 5. Postgres from a HelmRelease with its exporter ---------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_postgres_helm_release_enables_its_prometheus_exporter(env: str) -> None:
    tree = tree_of(env)
    values = tree.helm_values("postgres", NS)
    assert values["metrics"]["enabled"] is True
    assert values["auth"]["existingSecret"], "the superuser password must come from Vault"
    assert tree.one("ExternalSecret", values["auth"]["existingSecret"], NS)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_postgres_exporter_is_reachable_only_by_prometheus(env: str) -> None:
    tree = tree_of(env)
    labels = {"app.kubernetes.io/name": "postgres", "app.kubernetes.io/instance": "postgres"}
    port = tree.helm_values("postgres", NS)["metrics"]["service"]["port"]
    rules = _rules(_policies_for(tree, labels, "Ingress"), "ingress")
    assert len(rules) == 1 and _ports(rules[0]) == {("TCP", port)}
    assert rules[0]["from"][0]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}


# --- 6. kube-prometheus-stack scrapes Postgres ------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_kube_prometheus_stack_has_a_scrape_config_for_the_postgres_exporter(env: str) -> None:
    tree = tree_of(env)
    postgres = tree.helm_values("postgres", NS)
    expected = f"{postgres['fullnameOverride']}-metrics.{NS}.svc:{postgres['metrics']['service']['port']}"
    scrape_configs = tree.helm_values("kube-prometheus-stack", "monitoring")["prometheus"]["prometheusSpec"]["additionalScrapeConfigs"]
    postgres_jobs = [c for c in scrape_configs if "postgres" in c["job_name"]]
    assert len(postgres_jobs) == 1
    targets = [t for static in postgres_jobs[0]["static_configs"] for t in static["targets"]]
    assert targets == [expected]


# --- the backend's delivery: Ingress, Canary, RBAC -------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backend_is_served_through_the_edge_gateway_on_the_environment_domain(env: str) -> None:
    tree = tree_of(env)
    service = tree.one("Canary", "backend", NS)["spec"]["service"]
    # Flagger creates the route and the Services: named after the target, on the Canary's port.
    assert service["hosts"] == [tree.outputs["DOMAIN"]]
    assert service["gatewayRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "edge", "namespace": "envoy-gateway-system"}
    ]
    assert tree.one("Gateway", "edge", "envoy-gateway-system")
    assert not tree.find("Service", "backend", NS), "Flagger owns the backend Service; Git must not define it"
    assert not tree.find("HTTPRoute", "backend", NS), "Flagger owns the backend route; a second owner would fight it"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backend_rolls_out_through_a_flagger_canary_judged_on_the_proxies_metrics(env: str) -> None:
    tree = tree_of(env)
    canary = tree.one("Canary", "backend", NS)["spec"]
    assert canary["provider"] == "gatewayapi:v1"
    assert canary["targetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "backend"}
    metrics = {m["name"]: m for m in canary["analysis"]["metrics"]}
    assert list(metrics) == ["success-rate", "latency-p99"], "the overlays patch metrics[0] and metrics[1] by position"
    for metric in metrics.values():
        ref = metric["templateRef"]
        assert tree.one("MetricTemplate", ref["name"], ref["namespace"]), ref
    assert set(metrics["success-rate"]["thresholdRange"]) == {"min"} and set(metrics["latency-p99"]["thresholdRange"]) == {"max"}
    load_test = canary["analysis"]["webhooks"][0]["metadata"]["cmd"]
    envoy = tree.one("EnvoyProxy", "edge", "envoy-gateway-system")["spec"]["provider"]["kubernetes"]["envoyService"]["name"]
    assert load_test.endswith(f" -host {tree.outputs['DOMAIN']} http://{envoy}.envoy-gateway-system/"), (
        "through the proxies, as the ALB sends it"
    )
    assert "replicas" not in tree.one("Deployment", "backend", NS)["spec"], "the autoscaler and Flagger own the count"
    hpa = tree.one("HorizontalPodAutoscaler", "backend", NS)["spec"]
    assert canary["autoscalerRef"]["name"] == "backend" and hpa["minReplicas"] <= hpa["maxReplicas"]


def test_prod_runs_the_strictest_canary_and_the_most_replicas() -> None:
    trees = all_trees()

    def success_rate(env: str) -> float:
        metrics = trees[env].one("Canary", "backend", NS)["spec"]["analysis"]["metrics"]
        return float(next(m["thresholdRange"]["min"] for m in metrics if m["name"] == "success-rate"))

    def min_replicas(env: str) -> int:
        return int(trees[env].one("HorizontalPodAutoscaler", "backend", NS)["spec"]["minReplicas"])

    assert success_rate("dev") < success_rate("stage") < success_rate("prod")
    assert min_replicas("dev") < min_replicas("stage") < min_replicas("prod")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_developers_group_gets_namespace_scoped_rights_without_secrets(env: str) -> None:
    tree = tree_of(env)
    group = tree.outputs["DEVELOPERS_GROUP"]
    bindings = [
        r.obj
        for r in tree.objects
        if r.kind in ("RoleBinding", "ClusterRoleBinding") and any(s["kind"] == "Group" and s["name"] == group for s in r.obj["subjects"])
    ]
    assert bindings, f"{tree.env}: nothing binds the developers' group"
    for binding in bindings:
        assert binding["kind"] == "RoleBinding" and binding["metadata"]["namespace"] == NS
        assert binding["roleRef"]["kind"] == "Role"
        role = tree.one("Role", binding["roleRef"]["name"], NS)
        for rule in role["rules"]:
            assert "secrets" not in rule["resources"] and "*" not in rule["resources"], rule
            assert "*" not in rule["verbs"], rule


def test_only_dev_and_stage_let_developers_exec_into_pods() -> None:
    trees = all_trees()

    def can_exec(env: str) -> bool:
        return any("pods/exec" in rule["resources"] for role in trees[env].find("Role", namespace=NS) for rule in role.obj["rules"])

    assert can_exec("dev") and can_exec("stage") and not can_exec("prod")
