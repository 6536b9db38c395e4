"""The Jinja extensions behave as copier.yml expects."""

from __future__ import annotations

import pytest
from catalog import CatalogExtension
from compile_cache import CompileCacheExtension
from jinja2 import Environment
from naming import NamingExtension, package_name, slug, snowflake_identifier
from version import template_version


def test_compile_cache_reuses_templates_and_keeps_contexts_apart() -> None:
    env = Environment(extensions=[CompileCacheExtension, CatalogExtension])
    source = "{% if 'airflow' in components %}airflow{% endif %}"
    first = env.from_string(source)
    assert env.from_string(source) is first
    assert first.render(components=["airflow"]) == "airflow"
    assert env.from_string(source).render(components=[]) == ""
    assert env.from_string("{{ x }}", globals={"x": 1}) is not env.from_string("{{ x }}")


@pytest.mark.parametrize(
    ("name", "expected_slug", "expected_package", "expected_identifier"),
    [
        ("Orders Prototype", "orders-prototype", "orders_prototype", "ORDERS_PROTOTYPE"),
        ("Crème brûlée_v2", "creme-brulee-v2", "creme_brulee_v2", "CREME_BRULEE_V2"),
        ("A--B  c", "a-b-c", "a_b_c", "A_B_C"),
    ],
)
def test_derived_names(
    name: str, expected_slug: str, expected_package: str, expected_identifier: str
) -> None:
    assert slug(name) == expected_slug
    assert package_name(name) == expected_package
    assert snowflake_identifier(name) == expected_identifier


def test_filters_are_registered() -> None:
    env = Environment(extensions=[NamingExtension, CatalogExtension])
    assert env.from_string("{{ 'Orders Prototype' | dp_slug }}").render() == "orders-prototype"
    assert (
        env.from_string("{{ ['helm'] | dp_components_error }}")
        .render()
        .startswith("helm requires kubernetes")
    )
    assert env.from_string("{{ ['airflow', 'helm'] | dp_deployment_target }}").render() in {
        "kubernetes"
    }
    assert env.from_string("{{ [] | dp_deployment_target }}").render() == "none"


def test_version_is_the_version_file(root) -> None:
    assert template_version() == (root / "VERSION").read_text().strip()
    assert template_version().count(".") == 2
