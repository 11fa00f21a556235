"""The README's coverage table (catalogue/coverage.py) against Falco's rule files as
catalogue/falco_rules.json records them."""

from __future__ import annotations

from typing import Any

from catalogue import coverage, specs
from shared.acting.spec import Spec
from shared.priority import Priority


def test_every_default_rule_of_a_spec_is_a_falco_rule_of_one_of_its_sources() -> None:
    """A misspelt rule name would match no alert, silently: each must be Falco's."""
    known = {(rule.name, rule.source) for rule in coverage.falco_rules()}
    for spec in specs.load():
        for name in spec.rules:
            assert any((name, source) in known for source in spec.sources), (spec.name, name)


def test_the_rules_file_holds_what_falco_ships_by_default() -> None:
    audit, stable, incubating = coverage.firing(coverage.falco_rules())
    assert (len(audit), len(stable)) == (43, 25)
    assert [r.name for r in incubating] == ["Launch Package Management Process in Container"]


def test_a_rule_is_answered_by_the_specs_that_name_it_from_their_priority() -> None:
    rule = coverage.Rule("Terminal shell in container", "syscall", Priority.NOTICE, "maturity_stable", True)
    by_name = {spec.name: spec for spec in specs.load()}
    isolate: Spec[Any] = by_name["isolate-pod"]
    assert coverage.answering(rule, [isolate]) == ["isolate-pod"]
    assert coverage.answer(rule, [isolate]) == "`isolate-pod`"  # Notice: below notify's Warning
    louder = coverage.Rule(rule.name, "syscall", Priority.CRITICAL, rule.maturity, True)
    assert coverage.answer(louder, [isolate]) == "`isolate-pod` + `notify`"
    other_source = coverage.Rule(rule.name, "k8s_audit", Priority.CRITICAL, None, True)
    assert coverage.answering(other_source, [by_name["delete-configmap"]]) == []
    quiet = coverage.Rule("K8s Secret Created", "k8s_audit", Priority.INFORMATIONAL, None, True)
    assert coverage.answer(quiet, [isolate]).startswith("nothing by default")


def test_the_summary_counts_the_rules_with_an_action() -> None:
    loaded = specs.load()
    audit, _, _ = coverage.firing(coverage.falco_rules())
    line = coverage.summary(loaded, coverage.falco_rules())
    acted = [r for r in audit if coverage.answering(r, loaded)]
    assert f"{len(audit)} k8saudit rules that fire by default, {len(acted)} get an action" in line
    assert len(acted) >= 5  # delete-configmap's and isolate-pod's four
